// The dashboard: a national reader clicks a region on the map and sees its provinces, then maps
// the coverage gap and the delays of requests; the supervisor of Tanger-Tétouan-Al Hoceima lands
// on their region's provinces and cannot open another region. Every page passes axe, in Arabic and French.
export default async function ({ base, open, login, shot, axe, check }) {
  for (const lang of ["fr", "ar"]) {
    const page = await open(lang);
    await login(page, "manager");
    check((await page.locator(".map svg path").count()) === 12, "the twelve regions on the map");
    check((await page.locator(".legend li").count()) >= 2, "a legend");
    await axe(page, `dashboard of the regions (${lang})`);
    await shot(page, `04-dashboard-regions-${lang}`);
    // The click on the region goes down to its provinces.
    await Promise.all([page.waitForNavigation(), page.locator('.map a[href^="/?region=01&"]').click()]);
    check(page.url().includes("region=01"), `the click opened the region: ${page.url()}`);
    check((await page.locator(".map svg path").count()) === 8, "the eight provinces of the region");
    // The coverage gap, chosen from the list, without JavaScript's help.
    await page.selectOption("#f-measure", "gap");
    await Promise.all([page.waitForNavigation(), page.click("form.card button[type=submit]")]);
    check(page.url().includes("measure=gap"), `the measure is in the address: ${page.url()}`);
    check((await page.locator("#f-measure").inputValue()) === "gap", "the gap stays chosen");
    await axe(page, `coverage gap of a region (${lang})`);
    await shot(page, `04-dashboard-gap-${lang}`);
    // The usual time requests spend at a step, on the same map of the region's provinces, with
    // its table linking each province to its report of delays; grey where there is none yet.
    await page.selectOption("#f-measure", "delay");
    await Promise.all([page.waitForNavigation(), page.click("form.card button[type=submit]")]);
    check(page.url().includes("measure=delay"), `the delays are in the address: ${page.url()}`);
    check((await page.locator(".map svg path").count()) === 8, "the delays of the eight provinces");
    check((await page.locator("#requests-title").count()) === 1, "the table of requests per province");
    check((await page.locator('table a[href^="/requests/bottlenecks?territory=01."]').count()) === 8,
      "each province links to its report of delays");
    await axe(page, `delays of a region (${lang})`);
    await shot(page, `04-dashboard-delays-${lang}`);
    await page.goto(`${base}/?region=01&measure=gap`);
    // The territories' table as CSV.
    const csv = await page.request.get(`${base}${await page.locator("a[href^='/dashboard.csv']").first().getAttribute("href")}`);
    check(csv.ok() && (await csv.text()).split("\n").length >= 9, "the table's CSV has the eight provinces");
    await page.context().close();
  }

  const page = await open("fr");
  await login(page, "supervisor");
  check((await page.locator(".map svg path").count()) === 8, "the supervisor lands on the provinces of their region");
  check((await page.locator('.map a[href*="region="]').count()) === 0, "no way to another region");
  await axe(page, "the supervisor's dashboard");
  await shot(page, "04-dashboard-supervisor");
  const other = await page.goto(`${base}/?region=05`);
  check(other.status() === 404, `another region is not found: ${other.status()}`);
  await page.context().close();
}
