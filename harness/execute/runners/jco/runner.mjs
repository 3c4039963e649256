// handle-compat's external runner for jco (protocol 1; README "External runners").
//
// One process per run: it reads one JSON request per line on stdin and writes one JSON
// answer per line on stdout, in order. Each scenario runs in its own worker thread
// (worker.mjs); a step that outlives its deadline ends with worker.terminate(), the
// only way to stop wasm on Node. The memory and table caps are V8 flags on this
// process's command line (--wasm-max-mem-pages, --wasm-max-table-size), set by the
// harness.
//
// The component is transpiled with jco's JS API (no CLI: one Node start per run, not
// per component) into the folder the request names; a folder that already holds a
// transpiled component (the harness restores it from its signed cache) is used as it is.

import { createInterface } from "node:readline";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const PROTOCOL = 1;
const HERE = dirname(fileURLToPath(import.meta.url));
const JCO_VERSION = JSON.parse(readFileSync(join(HERE, "node_modules/@bytecodealliance/jco/package.json"), "utf8")).version;
const IMPORTS_FILE = "imports.json";

let transpileFn;

async function transpiled(request) {
  const dir = request.dir;
  if (existsSync(join(dir, IMPORTS_FILE))) {
    return { imports: JSON.parse(readFileSync(join(dir, IMPORTS_FILE), "utf8")), fresh: false };
  }
  transpileFn ??= (await import("@bytecodealliance/jco")).transpile;
  const bytes = Buffer.from(request.component, "base64");
  const result = await transpileFn(bytes, {
    name: "scenario",
    instantiation: { tag: "async" },
    emitTypescriptDeclarations: false,
    quiet: true,
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(result.files)) {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }), { mode: 0o600 });
  writeFileSync(join(dir, IMPORTS_FILE), JSON.stringify(result.imports), { mode: 0o600 });
  return { imports: result.imports, fresh: true };
}

/**
 * The host's log as the worker reported it change by change: what is left of a step
 * when the worker is terminated at its deadline (the host lives in the worker).
 */
class Mirror {
  constructor() {
    this.events = [];
    this.emits = [];
    this.live = new Map();
  }

  apply([what, at, value]) {
    if (what === "event") this.events[at] = value;
    else if (what === "emit") this.emits[at] = value;
    else if (value === null) this.live.delete(at);
    else this.live.set(at, value);
  }

  liveResources() {
    return [...this.live.entries()].sort((x, y) => x[0] - y[0]).map(([rep, resource]) => [resource, rep]);
  }
}

/** Sends one command to the worker; resolves with its answer, or {timeout} at the deadline, or {error}. */
function ask(worker, command, deadlineMs, mirror) {
  return new Promise((resolve) => {
    const done = (answer) => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      resolve(answer);
    };
    const onMessage = (answer) => (answer.journal ? mirror.apply(answer.journal) : done(answer));
    const onError = (error) => done({ error: `worker failed: ${error?.message ?? error}` });
    const onExit = (code) => done({ error: `worker exited with code ${code}` });
    const timer = setTimeout(() => {
      worker.terminate();
      done({ timeout: true });
    }, deadlineMs);
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage(command);
  });
}

function notRun() {
  return { outcome: { status: "not-run" }, emits: [], events: [], oplog: null, ops_complete: true };
}

async function runScenario(request) {
  const answer = { type: "trace", id: request.id, steps: [], live: [], error: null, transpiled: false };
  let imports;
  try {
    const result = await transpiled(request);
    imports = result.imports;
    answer.transpiled = result.fresh;
  } catch (error) {
    answer.error = `jco cannot transpile the component: ${String(error?.message ?? error).split("\n")[0]}`;
    return answer;
  }
  const worker = new Worker(join(HERE, "worker.mjs"), {
    workerData: {
      dir: request.dir,
      imports,
      steps: request.steps,
      emitsPerStep: request.emits_per_step,
      emitTagBytes: request.emit_tag_bytes,
      guestResources: request.guest_resources,
      oplog: request.oplog,
    },
    // The worker's console output must not reach stdout, which carries the protocol.
    stdout: true,
  });
  const mirror = new Mirror();
  try {
    const started = await ask(worker, { cmd: "instantiate" }, request.timeout_ms + request.load_ms, mirror);
    if (!started.ok) {
      answer.error = started.timeout ? "instantiation ran out of time" : `cannot instantiate: ${started.error}`;
      return answer;
    }
    let stopped = false;
    for (let index = 0; index < request.steps.length; index++) {
      if (stopped) {
        answer.steps.push(notRun());
        continue;
      }
      const [events, emits] = [mirror.events.length, mirror.emits.length];
      const result = await ask(worker, { cmd: "step", index }, request.timeout_ms, mirror);
      if (result.timeout) {
        answer.steps.push({
          outcome: { status: "trap", trap: "timeout", message: "interrupt: the worker was terminated" },
          emits: mirror.emits.slice(emits),
          events: mirror.events.slice(events),
          oplog: null,
          ops_complete: false,
        });
        stopped = true;
        continue;
      }
      if (result.error) {
        answer.error = `step ${index + 1}: ${result.error}`;
        return answer;
      }
      answer.steps.push(result);
      stopped = result.outcome.status === "trap";
    }
    const timedOut = answer.steps.some((s) => s.outcome.trap === "timeout");
    const finished = timedOut ? null : await ask(worker, { cmd: "finish" }, request.timeout_ms + request.load_ms, mirror);
    answer.live = finished?.live ?? mirror.liveResources();
  } finally {
    await worker.terminate();
  }
  return answer;
}

async function handle(request) {
  if (request.type === "hello") {
    return { type: "hello", protocol: PROTOCOL, runtime: "jco", version: JCO_VERSION };
  }
  if (request.type === "scenario") return runScenario(request);
  return { type: "error", message: `unknown request type ${JSON.stringify(request.type)}` };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    process.stdout.write(JSON.stringify({ type: "error", message: `not JSON: ${error.message}` }) + "\n");
    continue;
  }
  const answer = await handle(request);
  process.stdout.write(JSON.stringify(answer) + "\n");
}
