// The sign-in page, for a reader who is not signed in, in each language; a wrong password is
// answered in the reader's language without saying which part was wrong.
export default async function ({ base, open, axe, shot, check }) {
  for (const lang of ["ar", "fr", "en"]) {
    const page = await open(lang);
    await page.goto(`${base}/`);
    check(page.url().includes("/login"), "a reader without a session is sent to the sign-in page");
    await axe(page, `login ${lang}`);
    await shot(page, `login-${lang}`);
    await page.fill("#username", "nobody");
    await page.fill("#password", "wrong");
    await page.click("button[type=submit]");
    const alert = await page.textContent("[role=alert]");
    check(alert && alert.length > 10, `login ${lang}: the failure is said`);
    await axe(page, `login failed ${lang}`);
    await page.context().close();
  }
}
