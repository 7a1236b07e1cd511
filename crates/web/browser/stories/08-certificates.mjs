// An agent issues a certificate of registration from a household's page and downloads it; anyone,
// without an account, checks the PDF on the public verify page in Arabic and French and is told it
// is valid; the same file with one byte changed is told apart as not genuine; a number with a
// wrong code is not genuine either.
export default async function ({ base, open, login, axe, shot, check }) {
  const agent = await open("fr");
  await login(agent, "agent");
  await agent.goto(`${base}/search?q=a`);
  const household = await agent.getAttribute("tbody a[href^='/households/H']", "href");
  check(household, "the search finds a household of the centre");
  await agent.goto(`${base}${household}`);
  await Promise.all([
    agent.waitForNavigation(),
    agent.click(`form[action='${household}/certificates'] button[type=submit]`),
  ]);
  check(agent.url().includes("done=done-certificate-issued"), `issued: ${agent.url()}`);
  await axe(agent, "household documents fr");
  await shot(agent, "certificates-household-fr");
  const href = await agent.getAttribute("#documents-h ~ ul a[href^='/certificates/']", "href");
  check(href, "the document is listed with its PDF");
  const response = await agent.request.get(`${base}${href}`);
  check(response.status() === 200, `the PDF downloads: ${response.status()}`);
  check(response.headers()["content-type"] === "application/pdf", "it is a PDF");
  const pdf = await response.body();
  const number = href.replace("/certificates/", "").replace("/pdf", "");
  await agent.context().close();

  for (const lang of ["ar", "fr"]) {
    const anon = await open(lang);
    await anon.goto(`${base}/verify`);
    await axe(anon, `verify form ${lang}`);
    await shot(anon, `certificates-verify-form-${lang}`);
    await anon.setInputFiles("#file", { name: "attestation.pdf", mimeType: "application/pdf", buffer: pdf });
    await Promise.all([anon.waitForNavigation(), anon.click("form[action='/verify'][method='post'] button[type=submit]")]);
    check(await anon.isVisible(".notice.ok"), `${lang}: the genuine file is valid`);
    check((await anon.textContent("main")).includes(number), `${lang}: the number is shown`);
    await axe(anon, `verify valid ${lang}`);
    await shot(anon, `certificates-verify-valid-${lang}`);
    await anon.context().close();
  }

  const anon = await open("fr");
  const altered = Buffer.from(pdf);
  altered[Math.floor(altered.length / 2)] ^= 0x20;
  await anon.goto(`${base}/verify`);
  await anon.setInputFiles("#file", { name: "attestation.pdf", mimeType: "application/pdf", buffer: altered });
  await Promise.all([anon.waitForNavigation(), anon.click("form[action='/verify'][method='post'] button[type=submit]")]);
  check(await anon.isVisible(".notice.bad"), "an altered file is not genuine");
  await axe(anon, "verify forged fr");
  await shot(anon, "certificates-verify-forged-fr");
  await anon.goto(`${base}/verify?n=${number}&c=ZZZZZZZZZZ`);
  check(await anon.isVisible(".notice.bad"), "a wrong code is not genuine");
  await anon.context().close();
}
