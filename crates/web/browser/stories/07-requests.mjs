// A citizen who reads Arabic asks for a disability card with a medical certificate and gets the
// reference and the follow-up code; the code opens the public follow-up without signing in. An
// agent of a centre finds the request in the queue and moves it by one of its actions; the page
// says it moved. (The demo's citizen may live outside the demo agent's centre: the agent then
// files one at the centre, with the citizen's consent, for a household of the centre, and moves
// that one.)
const PDF = Buffer.from("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");

export default async function ({ base, open, login, axe, shot, check }) {
  const page = await open("ar");
  await login(page, "citizen");
  await page.goto(`${base}/me/requests`);
  await axe(page, "citizen requests ar");
  await shot(page, "requests-mine-ar");
  await page.click("a[href='/me/requests/new?kind=disability_card']");
  await page.waitForURL(/kind=disability_card/);
  await axe(page, "request form ar");
  await shot(page, "requests-new-ar");
  await page.fill("#details", "بطاقة لابني يوسف");
  await page.setInputFiles("#documents", { name: "certificat.pdf", mimeType: "application/pdf", buffer: PDF });
  await Promise.all([page.waitForNavigation(), page.click("form[action='/me/requests/new'] button[type=submit]")]);
  const reference = (await page.textContent("#reference") || "").trim();
  const secret = (await page.textContent("#secret") || "").trim();
  check(/^SR-/.test(reference), `the reference is shown: ${reference}`);
  check(secret.length === 6, "the follow-up code is shown");
  await axe(page, "request submitted ar");
  await shot(page, "requests-submitted-ar");
  await page.click("a.button[href^='/me/requests/']");
  await page.waitForURL(/\/me\/requests\/\d+/);
  await axe(page, "request page ar");
  await shot(page, "requests-detail-ar");
  await page.context().close();

  // The public follow-up, in French, without an account.
  const anon = await open("fr");
  await anon.goto(`${base}/follow`);
  await anon.fill("#reference", reference);
  await anon.fill("#secret", secret);
  await Promise.all([anon.waitForNavigation(), anon.click("form[action='/follow'] button[type=submit]")]);
  check(await anon.isVisible("#status-h"), "the follow-up shows where it stands");
  await axe(anon, "follow fr");
  await shot(anon, "requests-follow-fr");
  await anon.context().close();

  const agent = await open("fr");
  await login(agent, "agent");
  await agent.goto(`${base}/requests`);
  await axe(agent, "agent queue fr");
  await shot(agent, "requests-queue-fr");
  let link = await agent.getAttribute(`li.request:has-text("${reference}") a`, "href").catch(() => null);
  if (!link) {
    // Filed at the centre for a household of the agent's territory.
    await agent.goto(`${base}/search?q=a`);
    const household = await agent.getAttribute("tbody a[href^='/households/H']", "href");
    check(household, "the search finds a household of the centre");
    await agent.goto(`${base}${household}/requests/new?kind=registration_attestation`);
    await axe(agent, "assisted request form fr");
    await agent.check("#consent");
    await Promise.all([agent.waitForNavigation(), agent.click("form[action$='/requests/new'] button[type=submit]")]);
    check(await agent.isVisible("#reference"), "the assisted request has its reference");
    link = await agent.getAttribute("a.button[href^='/requests/']", "href");
  }
  check(link, "the agent finds the request");
  await agent.goto(`${base}${link}`);
  await axe(agent, "agent request page fr");
  await shot(agent, "requests-agent-detail-fr");
  // The first move that asks for no reason.
  const forms = await agent.$$("form[action$='/act']");
  check(forms.length > 0, "the agent has moves to make");
  let moved = false;
  for (const form of forms) {
    const required = await form.$("textarea[required]");
    if (required) continue;
    await Promise.all([agent.waitForNavigation(), (await form.$("button[type=submit]")).click()]);
    moved = agent.url().includes("done=done-request-moved");
    break;
  }
  check(moved, `the request moved: ${agent.url()}`);
  await shot(agent, "requests-moved-fr");
  await agent.context().close();

  const supervisor = await open("ar");
  await login(supervisor, "supervisor");
  await supervisor.goto(`${base}/requests/bottlenecks`);
  await axe(supervisor, "delays ar");
  await shot(supervisor, "requests-delays-ar");
  await supervisor.context().close();

  // The same visits on the supervisor's map of their provinces, in both scripts: the province of
  // the request has a usual time at a step, and links to its report.
  for (const lang of ["ar", "fr"]) {
    const map = await open(lang);
    await login(map, "supervisor");
    await map.goto(`${base}/?measure=delay`);
    check((await map.locator(".map svg path").count()) === 8, `the provinces of the supervisor's region (${lang})`);
    const figures = await map.locator('table a[href^="/requests/bottlenecks?territory="]').count();
    check(figures === 8, `every province in the table of requests (${lang}): ${figures}`);
    const cells = await map.locator("#requests-title + p + .table-wrap td.n").allInnerTexts();
    check(cells.some((c) => c.trim() !== "—"), `a province shows its delays (${lang})`);
    await axe(map, `the map of delays (${lang})`);
    await shot(map, `requests-map-delays-${lang}`);
    await map.context().close();
  }
}
