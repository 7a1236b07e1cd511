// The language switch is on every page and remembers the choice; the keyboard reaches it.
export default async function ({ base, open, login, check }) {
  const page = await open("fr");
  await login(page, "agent");
  await page.click("a[hreflang=ar]");
  check((await page.getAttribute("html", "lang")) === "ar", "switched to Arabic");
  await page.goto(`${base}/`);
  check((await page.getAttribute("html", "dir")) === "rtl", "Arabic is remembered on the next page");
  // The first Tab reaches the skip link, which is visible when focused.
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement.className);
  check(focused.includes("skip"), `the first Tab reaches the skip link, not ${focused}`);
  await page.context().close();
}
