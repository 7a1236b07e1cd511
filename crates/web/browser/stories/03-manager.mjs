// A manager tries a condition on the registry (a broken one is named beside the field, a sound one
// is counted by region), previews and prepares a payment cycle for next month; the same manager
// is told they cannot approve it; a second manager approves it. Every page passes axe-core and
// works at 360 px.
export default async function ({ base, accounts, open, login, axe, shot, check }) {
  const page = await open("fr");
  await login(page, "manager");

  // A condition from the list of programmes: first with a syntax error.
  await page.goto(`${base}/manage/programmes`);
  await axe(page, "manager programmes");
  await shot(page, "manager-programmes-fr");
  await page.fill("#rule", "household.index <=");
  await Promise.all([page.waitForNavigation(), page.click("form[action='/manage/programmes'] button[type=submit]")]);
  check(await page.isVisible("#rule-error"), "the syntax error is shown beside the field");
  check((await page.getAttribute("#rule", "aria-invalid")) === "true", "the field is marked invalid");
  await axe(page, "manager condition error");
  await page.fill("#rule", "household.index <= 9.3");
  await Promise.all([page.waitForNavigation(), page.click("form[action='/manage/programmes'] button[type=submit]")]);
  check(await page.isVisible("#counts-title"), "the dry run of the condition is shown");
  const regions = await page.$$eval("section[aria-labelledby=counts-title] tbody tr", (rows) => rows.length);
  check(regions >= 12, `the count is given by region (${regions} rows)`);
  await axe(page, "manager condition counted");
  await shot(page, "manager-condition-fr");

  // A programme's own conditions, checked without saving.
  const first = await page.getAttribute("tbody a[href^='/manage/programmes/']", "href");
  check(first, "the list links to a programme");
  await page.goto(`${base}${first}`);
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/try'] button:not([formaction])")]);
  check(await page.isVisible("#counts-title"), "the programme's conditions are counted");
  await axe(page, "manager programme checked");

  // A cycle for next month (a month no story paid yet): preview, then prepare.
  const now = new Date();
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const period = `${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, "0")}`;
  await page.goto(`${base}/manage/cycles`);
  await axe(page, "manager cycles");
  const programmes = await page.$$eval("#programme option", (os) => os.map((o) => o.value));
  check(programmes.length > 0, "programmes that pay are offered");
  let prepared = false;
  for (const programme of programmes) {
    await page.goto(`${base}/manage/cycles?programme=${encodeURIComponent(programme)}&period=${period}`);
    if (!(await page.isVisible("#preview-title"))) continue;
    await axe(page, `manager preview ${programme}`);
    if (!(await page.isVisible("#prepare-reason"))) continue; // over its cap
    await shot(page, "manager-preview-fr");
    await page.fill("#prepare-reason", "story: monthly payment");
    await Promise.all([page.waitForNavigation(), page.click("form[action='/manage/cycles'][method=post] button[type=submit]")]);
    prepared = /\/manage\/cycles\/\d+/.test(page.url());
    if (prepared) break;
  }
  check(prepared, `a cycle was prepared for ${period}`);
  const cycleUrl = page.url().split("?")[0];
  check((await page.textContent("[role=status]")) !== null, "the page says the cycle is computed");
  await axe(page, "manager cycle prepared");
  await shot(page, "manager-cycle-fr");

  // The same manager is refused, with a plain sentence.
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/approve'] button[type=submit]")]);
  const alert = await page.textContent("[role=alert]");
  check(alert && alert.length > 20, "the refusal to approve one's own cycle is said");
  await axe(page, "manager own approval refused");
  await page.context().close();

  // A second manager approves it.
  check(accounts.manager2, "a second manager account for the story");
  const other = await open("ar");
  await login(other, "manager2");
  await other.goto(cycleUrl);
  await axe(other, "second manager cycle");
  await other.fill("#approve-reason", "checked");
  await Promise.all([other.waitForNavigation(), other.click("form[action$='/approve'] button[type=submit]")]);
  check(other.url().includes("done=done-cycle-approved"), `the second manager approved it: ${other.url()}`);
  check(!(await other.isVisible("form[action$='/approve']")), "nothing left to approve");
  await axe(other, "second manager cycle approved");
  await shot(other, "manager-cycle-approved-ar");
  await other.context().close();
}
