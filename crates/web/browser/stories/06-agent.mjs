// An agent of a centre finds a household of their territory, then registers a person already in
// the registry for a citizen in assisted mode: before anything is saved, the page warns of the
// likely duplicate with its comparison field by field; the consent is asked for; once the agent
// confirms, the household is saved and the pair waits in the centre's review queue.
export default async function ({ base, open, login, axe, shot, check }) {
  const page = await open("fr");
  await login(page, "agent");
  await page.goto(`${base}/search?q=a`);
  await axe(page, "agent search");
  await shot(page, "agent-search-fr");
  const household = await page.getAttribute("tbody a[href^='/households/H']", "href");
  check(household, "the search finds households of the territory");
  await page.goto(`${base}${household}`);
  await axe(page, "agent household");
  // The head of that household, as the registry knows them.
  await page.goto(`${base}${household}/edit`);
  await axe(page, "agent update form");
  const value = (name) => page.inputValue(`[name='${name}']`);
  const person = {
    first: await value("m0-first_name"),
    last: await value("m0-last_name"),
    firstAr: await value("m0-first_name_ar"),
    lastAr: await value("m0-last_name_ar"),
    birth: await value("m0-birth_date"),
    sex: await value("m0-sex"),
    commune: await value("commune"),
  };
  check(person.first && person.birth, "the head's names and birth date");

  await page.goto(`${base}/households/new`);
  await axe(page, "agent registration form");
  const fill = async () => {
    await page.fill("#commune", person.commune);
    await page.fill("#address", "Hay Bir Chifa");
    await page.fill("#rooms", "2");
    await page.fill("#income", "1500");
    await page.fill("#m0-first_name", person.first);
    await page.fill("#m0-last_name", person.last);
    await page.fill("#m0-first_name_ar", person.firstAr);
    await page.fill("#m0-last_name_ar", person.lastAr);
    await page.fill("#m0-birth_date", person.birth);
    await page.selectOption("#m0-sex", person.sex);
    await page.selectOption("#m0-schooling", "primary");
    await page.selectOption("#m0-occupation", "employed");
  };
  await fill();
  // Consent first: without it nothing is saved.
  await Promise.all([page.waitForNavigation(), page.click("form[action='/households/new'] button[type=submit]:not([name=more])")]);
  check(await page.isVisible("#consent-error"), "the consent is asked for");
  // The duplicate checker trains in the background when the server starts: give it time.
  let warned = false;
  for (let attempt = 0; attempt < 15 && !warned; attempt += 1) {
    await page.check("#consent");
    await Promise.all([page.waitForNavigation(), page.click("form[action='/households/new'] button[type=submit]:not([name=more])")]);
    warned = await page.isVisible("#dup-h");
    if (!warned) {
      check(!page.url().includes("done="), "saved without a warning");
      await page.waitForTimeout(2000);
    }
  }
  check(warned, "the agent is warned of the likely duplicate before saving");
  const compared = await page.$$eval("#dup-h ~ .card dt", (d) => d.length);
  check(compared >= 2, `the comparison is given field by field (${compared})`);
  await axe(page, "agent duplicate warning");
  await shot(page, "agent-duplicate-fr");
  await page.check("#confirm_duplicates");
  await page.check("#consent");
  await Promise.all([page.waitForNavigation(), page.click("form[action='/households/new'] button[type=submit]:not([name=more])")]);
  check(page.url().includes("done=done-household-saved"), `saved once confirmed: ${page.url()}`);
  await page.goto(`${base}/review`);
  check(await page.isVisible("form[action$='/merge']"), "the pair waits in the review queue");
  await axe(page, "agent review");
  await shot(page, "agent-review-fr");
  await page.context().close();
}
