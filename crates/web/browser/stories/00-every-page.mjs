// Every role signs in, in each language, and opens every page of its navigation: each page passes
// axe-core with no serious or critical violation and reports no script or CSP error.
export default async function ({ base, accounts, open, login, axe, shot, check }) {
  for (const role of Object.keys(accounts).filter((r) => r !== "partner")) {
    for (const lang of ["ar", "fr", "en"]) {
      const page = await open(lang);
      await login(page, role);
      const dir = await page.getAttribute("html", "dir");
      check(dir === (lang === "ar" ? "rtl" : "ltr"), `${role} ${lang}: dir=${dir}`);
      const links = await page.$$eval("nav.main a", (as) => as.map((a) => a.getAttribute("href")));
      for (const href of links) {
        const response = await page.goto(`${base}${href}`);
        check(response.status() === 200, `${role} ${lang} ${href}: ${response.status()}`);
        await axe(page, `${role} ${lang} ${href}`);
      }
      if (lang !== "en") {
        await page.goto(`${base}/`);
        await shot(page, `home-${role}-${lang}`);
      }
      await page.context().close();
    }
  }
}
