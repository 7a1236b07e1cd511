// Every role signs in, in each language, and opens every page of its navigation and the pages one
// level down (a household, its forms, a programme, a model, a cycle, an account): each passes
// axe-core with no serious or critical violation and reports no script or CSP error.
export default async function ({ base, accounts, open, login, axe, shot, check }) {
  // Links followed from a page of the navigation, per role: the first link matching each selector.
  const deeper = {
    agent: [["/search?q=a", "tbody a[href^='/households/H']"]],
    supervisor: [["/search?q=a", "tbody a[href^='/households/H']"]],
    manager: [
      ["/manage/programmes", "tbody a[href^='/manage/programmes/']"],
      ["/manage/models", "a[href^='/manage/models/']"],
      ["/manage/cycles", "a[href^='/manage/cycles/']"],
    ],
    admin: [["/admin/accounts", "tbody a[href^='/admin/accounts/']"]],
  };
  // Pages reached from a household's page by an agent.
  const fromHousehold = ["/edit", "/declare"];
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
      for (const [from, selector] of deeper[role] || []) {
        await page.goto(`${base}${from}`);
        const href = await page.getAttribute(selector, "href").catch(() => null);
        if (!href) continue;
        const response = await page.goto(`${base}${href}`);
        check(response.status() === 200, `${role} ${lang} ${href}: ${response.status()}`);
        await axe(page, `${role} ${lang} ${href}`);
        if (role === "agent" && href.startsWith("/households/")) {
          for (const tail of fromHousehold) {
            const r = await page.goto(`${base}${href}${tail}`);
            check(r.status() === 200, `${role} ${lang} ${href}${tail}: ${r.status()}`);
            await axe(page, `${role} ${lang} ${href}${tail}`);
          }
        }
      }
      if (role === "admin") {
        for (const href of ["/admin/accounts/new"]) {
          const r = await page.goto(`${base}${href}`);
          check(r.status() === 200, `${role} ${lang} ${href}: ${r.status()}`);
          await axe(page, `${role} ${lang} ${href}`);
        }
      }
      if (lang !== "en") {
        await page.goto(`${base}/`);
        await shot(page, `home-${role}-${lang}`);
      }
      await page.context().close();
    }
  }
}
