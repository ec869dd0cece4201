// Drives the GUI in Debian's headless chromium: the page says what it is, shows the programs
// (names escaped) by group with restarts, CPU, memory and their history, a stop changes the
// state on the page without a reload, health checks' verdicts show as they change, listener pools show their listeners' states, and the log
// viewer shows new lines, clears the log and closes.
// Usage: node gui_test.mjs BASE_URL
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const base = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fail = async (msg) => {
  console.log("FAIL " + msg);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  let dialogs = 0;
  // Clearing a log is confirmed; everything else (shutdown) is dismissed.
  page.on("dialog", (d) => { dialogs++; d.message().startsWith("Empty the logs") ? d.accept() : d.dismiss(); });
  await page.goto(base + "/");
  const row = (name) => page.locator(`#procs tbody tr[data-name="${name}"]`);
  await row("web:web").waitFor({ timeout: 20000 });
  const state = async (name) => (await row(name).locator(".state").textContent()).trim();
  if (await state("web:web") !== "RUNNING") await fail("web is not RUNNING");
  if (!(await row("web:web").locator(".desc").textContent()).startsWith("pid ")) await fail("no pid");
  // A program named <script> is shown as text, not run as markup.
  const evil = row("<script>:<script>");
  if ((await evil.locator(".name").textContent()) !== "<script>") await fail("name not shown literally");
  if (await page.locator("td.name script").count() !== 0) await fail("markup injected");
  // Groups are shown as groups.
  if (await page.locator("tr.group td", { hasText: "workers" }).count() !== 1) await fail("no group row");
  // The header says what this is.
  if ((await page.locator("#ident").textContent()) !== "supervisor") await fail("no identifier");
  if (!/^\d+\.\d+\.\d+/.test(await page.locator("#version").textContent())) await fail("no version");
  if (!(await page.locator("header").textContent()).includes("identifier")) await fail("identifier not labelled");
  console.log("ok programs shown");

  // Health: in the description, and a verdict (which changes no state) reaches the open page.
  const health = (want) => page.waitForFunction((want) => {
    const tr = document.querySelector('#procs tbody tr[data-name="checked:checked"]');
    return tr && tr.dataset.health === want[0] && tr.querySelector(".desc").textContent.includes(want[1]);
  }, want, { timeout: 20000 });
  await health(["healthy", ", healthy"]);
  writeFileSync(process.env.SICK, "");
  await health(["unhealthy", ", unhealthy: exit status 1"]);
  console.log("ok health shown");

  // CPU, memory and their history arrive every 2 s.
  await page.waitForFunction(() => {
    const tr = document.querySelector('#procs tbody tr[data-name="ticker:ticker"]');
    return tr && /%$/.test(tr.querySelector(".cpu").textContent)
      && /B$/.test(tr.querySelector(".mem").textContent)
      && tr.querySelectorAll(".chart svg polyline").length === 2;
  }, null, { timeout: 30000 });
  console.log("ok stats and chart shown");

  // Stop from the page; the state changes without a reload.
  const navigations = [];
  page.on("framenavigated", (f) => navigations.push(f.url()));
  await row("web:web").getByRole("button", { name: "stop", exact: true }).click();
  await page.waitForFunction(() =>
    document.querySelector('#procs tbody tr[data-name="web:web"] .state')?.textContent === "STOPPED",
    null, { timeout: 20000 });
  if (navigations.length) await fail("the page reloaded");
  console.log("ok stop seen live");
  await row("web:web").getByRole("button", { name: "start", exact: true }).click();
  await page.waitForFunction(() =>
    document.querySelector('#procs tbody tr[data-name="web:web"] .state')?.textContent === "RUNNING",
    null, { timeout: 20000 });
  if ((await row("web:web").locator(".restarts").textContent()) !== "1") await fail("restarts not counted");
  console.log("ok start seen live");

  // Event listener pools are shown with their listeners' protocol states.
  await page.waitForFunction(() =>
    document.querySelector('#pools tr.listener[data-listener="watch"] .state')?.textContent === "READY",
    null, { timeout: 20000 });
  if (!(await page.locator("#pools tr.pool").first().textContent()).includes("PROCESS_STATE_FATAL")) {
    await fail("the pool's events are not shown");
  }
  console.log("ok listener pools shown");

  // Shutdown is behind a confirmation (dismissed here: nothing happens).
  await page.locator("#shutdown").click();
  if (dialogs !== 1) await fail("no confirmation for shutdown");

  // The log viewer follows new output.
  await row("ticker:ticker").getByRole("button", { name: "log", exact: true }).click();
  await page.waitForFunction(() => /tick \d+/.test(document.querySelector("#logtext").textContent), null, { timeout: 20000 });
  const count = async () => (await page.locator("#logtext").textContent()).split("tick ").length;
  const before = await count();
  await page.waitForFunction((n) => document.querySelector("#logtext").textContent.split("tick ").length > n + 2,
    before, { timeout: 20000 });
  console.log("ok log follows");

  // Clear empties the log (after a confirmation); Close closes the panel.
  await page.locator("#logclear").click();
  await page.locator("#toast", { hasText: "cleared" }).waitFor({ timeout: 20000 });
  const tail = await (await page.request.get(base + "/program/log/ticker:ticker/stdout")).text();
  if (tail.startsWith("tick 1\n")) await fail("the log file was not cleared");
  await page.locator("#logclose").click();
  await page.locator("#logview").waitFor({ state: "hidden", timeout: 5000 });
  console.log("ok log cleared and closed");
  await page.screenshot({ path: process.env.SCREENSHOT || "/tmp/supervisord-gui.png" });
  if (errors.length) await fail("page errors: " + errors.join("; "));
  console.log("all ok");
} catch (e) {
  await fail(String(e));
}
await browser.close();
