// A citizen who reads Arabic opens their household: the index is explained in plain words (what
// raised it, what lowered it) and each programme says yes or why not. Then a keyboard-only user
// (no mouse at all) files a change of the household, from the navigation to the confirmation.
export default async function ({ base, accounts, open, login, axe, shot, check }) {
  const page = await open("ar");
  await login(page, "citizen");
  await page.goto(`${base}/`);
  check((await page.getAttribute("html", "dir")) === "rtl", "Arabic is read right to left");
  check(await page.isVisible("#index-h"), "the index has its section");
  const effects = await page.$$eval("ul.effects li", (li) => li.map((l) => l.textContent.trim()));
  check(effects.length >= 2, `what moved the index is listed (${effects.length})`);
  check(effects.some((e) => /[\u0600-\u06FF]/.test(e)), "in Arabic words");
  const verdicts = await page.$$eval("article.programme", (as) => as.map((a) => ({
    yes: !!a.querySelector(".badge.ok"),
    text: a.textContent,
  })));
  check(verdicts.length >= 2, "every programme answers");
  const no = verdicts.find((v) => !v.yes);
  check(no && /[\u0600-\u06FF]{4,}/.test(no.text), "a refusal gives its reason in Arabic");
  await axe(page, "citizen home ar");
  await shot(page, "citizen-home-ar");
  await page.context().close();

  // Keyboard only: Tab to the link, Enter; arrows and space for the choice; type; Enter.
  const kb = await open("fr");
  await kb.goto(`${base}/login`);
  await kb.keyboard.press("Tab");
  const tabTo = async (selector, max = 60) => {
    for (let i = 0; i < max; i += 1) {
      if (await kb.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
      await kb.keyboard.press("Tab");
    }
    throw new Error(`the keyboard never reaches ${selector}`);
  };
  await tabTo("#username");
  await kb.keyboard.type(accounts.citizen.username);
  await tabTo("#password");
  await kb.keyboard.type(accounts.citizen.password);
  await Promise.all([kb.waitForNavigation(), kb.keyboard.press("Enter")]);
  check(!kb.url().includes("/login"), "signed in by keyboard");
  await tabTo("nav a[href='/me/change']");
  const focus = await kb.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return `${s.outlineStyle} ${s.outlineWidth} ${s.boxShadow}`;
  });
  check(!/^none 0px none$/.test(focus), `the focus is visible (${focus})`);
  await Promise.all([kb.waitForNavigation(), kb.keyboard.press("Enter")]);
  check(kb.url().endsWith("/me/change"), `the change form by keyboard: ${kb.url()}`);
  await axe(kb, "declare a change fr");
  await shot(kb, "citizen-change-fr");
  await tabTo("input[name=kind]");
  // Radios: the arrow keys move the choice; space selects the first one reached.
  await kb.keyboard.press("Space");
  await kb.keyboard.press("ArrowDown");
  const kind = await kb.$eval("input[name=kind]:checked", (i) => i.value);
  check(kind === "member_left", `the second kind chosen by arrow (${kind})`);
  await tabTo("#happened_on");
  await kb.keyboard.type("01102026");
  await tabTo("#details");
  await kb.keyboard.type("Mon fils Youssef est parti étudier à Rabat.");
  await tabTo("button[type=submit]:not(.link)");
  await Promise.all([kb.waitForNavigation(), kb.keyboard.press("Enter")]);
  check(kb.url().includes("done=done-change-declared"), `the declaration was sent: ${kb.url()}`);
  check(await kb.isVisible("[role=status]"), "the citizen is told it was received");
  check((await kb.textContent("#decl-h")) !== null, "the declaration is listed on the household");
  await axe(kb, "declaration received fr");
  await shot(kb, "citizen-declared-fr");
  await kb.context().close();
}
