// Runs Sanad's browser stories in Debian's headless Chromium (never a downloaded browser).
// Environment: SANAD_URL (the running server), SANAD_ACCOUNTS (JSON: role -> {username, password}),
// SANAD_SHOTS (folder for screenshots), SANAD_STORIES (optional: only stories whose file name
// contains this text). Exit code 1 when a story fails.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const base = process.env.SANAD_URL || "http://127.0.0.1:8080";
const accounts = JSON.parse(process.env.SANAD_ACCOUNTS || "{}");
const shots = process.env.SANAD_SHOTS || path.join(here, "shots");
const only = process.env.SANAD_STORIES || "";
fs.mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

class StoryError extends Error {}
function check(condition, message) {
  if (!condition) throw new StoryError(message);
}

// A page in a language, at a width; fails the story on any Content-Security-Policy violation or
// script error the page reports.
async function open(lang = "fr", width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: lang });
  await context.addCookies([{ name: "sanad_lang", value: lang, url: base }]);
  const page = await context.newPage();
  page.problems = [];
  // A page answered with an error status (a refused login, a 404 page) is said by the console
  // too; that is the page's own status, checked by the stories. A missing asset is a problem.
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) page.problems.push(m.text());
  });
  page.on("response", (r) => {
    if (r.request().resourceType() !== "document" && r.status() >= 400) {
      page.problems.push(`${r.status()} for ${r.url()}`);
    }
  });
  page.on("pageerror", (e) => page.problems.push(String(e)));
  return page;
}

async function login(page, role) {
  const account = accounts[role];
  check(account, `no demo account for ${role}`);
  await page.goto(`${base}/login`);
  await page.fill("#username", account.username);
  await page.fill("#password", account.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check(!page.url().includes("/login"), `${role} could not sign in: ${page.url()}`);
}

// Screenshots at 360 px and 1280 px, whole page.
async function shot(page, name) {
  const size = page.viewportSize();
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
    if (width === 360) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) {
        // Name the deepest elements that stick out, to say what to fix.
        const culprits = await page.evaluate(() => {
          const out = [];
          for (const el of document.querySelectorAll("body *")) {
            const r = el.getBoundingClientRect();
            const inside = [...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1);
            if ((r.right > window.innerWidth + 1 || r.left < -1) && !inside) {
              out.push(`${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""}`);
            }
            if (out.length >= 5) break;
          }
          return out.join(", ");
        });
        check(false, `${name}: the page is ${overflow}px wider than a 360 px screen (${culprits})`);
      }
    }
  }
  await page.setViewportSize(size);
}

// axe-core in the same browser: no serious or critical violation.
async function axe(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(bad.length === 0, `${label}: axe found ${bad.map((v) =>
    `${v.id} (${v.impact}) on ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`).join("; ")}`);
  check(page.problems.length === 0, `${label}: the page reported ${page.problems.join(" | ")}`);
}

const files = fs.readdirSync(path.join(here, "stories")).filter((f) => f.endsWith(".mjs") && f.includes(only)).sort();
let failed = 0;
for (const file of files) {
  const started = Date.now();
  try {
    const story = await import(path.join(here, "stories", file));
    await story.default({ base, accounts, open, login, shot, axe, check });
    console.log(`ok    ${file} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL  ${file}: ${e instanceof StoryError ? e.message : e.stack}`);
  }
}
await browser.close();
console.log(`${files.length - failed} passed, ${failed} failed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
