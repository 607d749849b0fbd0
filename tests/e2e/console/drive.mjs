// drive: the console in a real browser (Debian's chromium, driven by
// puppeteer-core from tools/console-npm), for tests/e2e/test_console.py.
// Reads a JSON plan on stdin, does what a reviewer does, and prints what
// it saw as JSON; the Python test asserts on it and checks the API.
//
// plan: {base, chromium, npm, shots, password, village, town, district,
//        other, app, app_reject, person, loads}
import { createRequire } from "module";
import fs from "fs";
import path from "path";

const plan = JSON.parse(fs.readFileSync(0, "utf8"));
const require = createRequire(path.join(plan.npm, "node_modules") + "/");
const puppeteer = require("puppeteer-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const out = { steps: [], axe: {}, overflow: {}, csp_errors: [], page_errors: [] };

const browser = await puppeteer.launch({
  executablePath: plan.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=zh-CN"],
});

async function session() {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on("console", (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) out.csp_errors.push(m.text());
  });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.setDefaultTimeout(30000);
  return { ctx, page };
}

async function at(page, name) {
  await page.waitForSelector(`main[data-page="${name}"][data-state="ready"]`);
}

async function go(page, hash, name) {
  await page.goto(plan.base + "/console/" + hash);
  await at(page, name);
}

async function text(page, sel) {
  return page.$eval(sel, (e) => e.textContent.trim()).catch(() => null);
}

async function signIn(page, oid) {
  await go(page, "#/signin", "signin");
  await page.type("#signin-operator", oid);
  await page.type("#signin-password", plan.password);
  await page.keyboard.press("Enter");
  await at(page, "queue");
}

async function checkPage(page, name) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
    TAGS
  );
  out.axe[name] = r.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
  await page.setViewport({ width: 768, height: 1024 });
  await new Promise((r) => setTimeout(r, 300));
  out.overflow[name] = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  if (plan.shots) await page.screenshot({ path: path.join(plan.shots, name + "-768.png"), fullPage: true });
  await page.setViewport({ width: 1280, height: 900 });
}

// Tabs through the page from where focus is (after a route: <main>) round
// to it again: the controls reached (id, or tag and text) and whether each
// showed a focus ring.
async function tabOrder(page, max) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const s = getComputedStyle(e);
      return { key: e.id || e.tagName.toLowerCase() + ":" + e.textContent.trim().slice(0, 20), ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 };
    });
    if (f === null) continue; // past the last control: the browser's, then the top
    if (seen.some((x) => x.key === f.key)) break;
    seen.push(f);
  }
  return seen;
}

async function decide(page, app, decision, reason) {
  await go(page, "#/app/" + app, "application");
  if (reason !== undefined) await page.type("#decide-reason", reason);
  await page.click("#decide-" + decision);
  await page.waitForFunction(
    () => document.querySelector("#app-error")?.textContent || document.querySelector("#app-ok")?.textContent
  );
  return {
    error: await text(page, "#app-error"),
    ok: await text(page, "#app-ok"),
    state: await page.$eval("#app-state", (e) => e.dataset.state).catch(() => null),
  };
}

try {
  // sign-in page: checked before anyone signs in
  {
    const { ctx, page } = await session();
    await go(page, "", "signin");
    await checkPage(page, "signin");
    out.tab_signin = await tabOrder(page, 20);
    // a wrong password: the API's message on the page
    await page.type("#signin-operator", plan.village);
    await page.type("#signin-password", "not the password");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#signin-error")?.textContent);
    out.wrong_password = await text(page, "#signin-error");
    await ctx.close();
  }

  // the village reviewer: the queue, the application, pass; the rejection
  {
    const { ctx, page } = await session();
    await signIn(page, plan.village);
    out.queue_links = await page.$$eval("main a", (as) => as.map((a) => a.textContent));
    if (plan.shots) await page.screenshot({ path: path.join(plan.shots, "queue.png"), fullPage: true });
    await checkPage(page, "queue");
    // the language switch
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "en");
    await at(page, "queue");
    out.english = { lang: await page.evaluate(() => document.documentElement.lang), h1: await text(page, "h1"), nav: await text(page, "#nav a") };
    await page.reload();
    await at(page, "queue");
    out.english_kept = await text(page, "h1");
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
    await at(page, "queue");
    out.chinese = { lang: await page.evaluate(() => document.documentElement.lang), h1: await text(page, "h1") };

    await page.click(`main a[href="#/app/${plan.app}"]`);
    await at(page, "application");
    if (plan.shots) await page.screenshot({ path: path.join(plan.shots, "application.png"), fullPage: true });
    await checkPage(page, "application");
    out.tab_application = await tabOrder(page, 80);
    out.steps.push({ who: "village", ...(await decide(page, plan.app, "pass")) });

    out.reject_without_reason = await decide(page, plan.app_reject, "reject");
    out.reject_with_reason = await decide(page, plan.app_reject, "reject", "材料不全 materials incomplete");

    await go(page, "#/person/" + plan.person, "person");
    if (plan.shots) await page.screenshot({ path: path.join(plan.shots, "person.png"), fullPage: true });
    await checkPage(page, "person");
    // the person page's load time, whole (the page, its modules revalidated,
    // /v1/me and /v1/persons/ID), over plan.loads reloads
    if (plan.loads > 0) {
      const ms = [];
      for (let i = 0; i < plan.loads; i++) {
        const t0 = performance.now();
        await page.reload();
        await at(page, "person");
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
      out.person_load_ms = { n: ms.length, p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1] };
    }
    await go(page, "#/persons", "persons");
    await checkPage(page, "persons");
    await go(page, "#/providers", "providers");
    await checkPage(page, "providers");
    await go(page, "#/catalogue", "catalogue");
    await page.waitForSelector("#catalogue-chart canvas");
    out.chart = true;
    if (plan.shots) await page.screenshot({ path: path.join(plan.shots, "catalogue.png"), fullPage: true });
    await checkPage(page, "catalogue");
    // who may apply for an item, from the catalogue's link; the 在训 pauses
    await page.click('main a[href="#/eligible/R02-AUTISM"]');
    await at(page, "eligible");
    out.eligible_rows = await page.$$eval("main tbody tr", (rs) => rs.length);
    await checkPage(page, "eligible");
    await go(page, "#/training", "training");
    out.training_upload = (await page.$("#training-report")) !== null;
    await checkPage(page, "training");
    await go(page, "#/submit", "submit");
    await checkPage(page, "submit");
    await page.click("#signout");
    await at(page, "signin");
    out.signed_out = true;
    await ctx.close();
  }

  // another village's reviewer, by URL
  {
    const { ctx, page } = await session();
    await signIn(page, plan.other);
    await go(page, "#/app/" + plan.app, "application");
    out.other_village = {
      error: await text(page, "#app-error"),
      buttons: (await page.$$("#decide-pass, #decide-reject, #decide-return")).length,
    };
    // the session ended on the server (signed out elsewhere with its
    // token): the next page is refused and the sign-in page says why
    const [cookie] = await page.cookies(plan.base + "/v1/me");
    const r = await fetch(plan.base + "/v1/session", {
      method: "DELETE",
      headers: { Authorization: "Bearer " + cookie.value },
    });
    await go(page, "#/providers", "signin");
    out.ended = { status: r.status, cookie: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, error: await text(page, "#signin-error") };
    await ctx.close();
  }

  // the town and the district, each in a session of their own
  for (const who of ["town", "district"]) {
    const { ctx, page } = await session();
    await signIn(page, plan[who]);
    out[who + "_queue_has"] = (await page.$(`main a[href="#/app/${plan.app}"]`)) !== null;
    out.steps.push({ who, ...(await decide(page, plan.app, "pass")) });
    await ctx.close();
  }
} catch (e) {
  out.failure = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
