// One scenario in one worker thread: the main thread (runner.mjs) sends commands and
// terminates the worker at a step's deadline, which is the only way to stop wasm that
// never returns on Node.
//
// Commands: {cmd: "instantiate"}, {cmd: "step", index}, {cmd: "finish"}; each gets one
// answer message. A trap ends the scenario (later steps are not run, as on every
// backend), so the instance is never entered again after one.

import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { HostTrap, StreamHost } from "./host.mjs";
import { classify } from "./traps.mjs";

const { dir, imports, steps, emitsPerStep, emitTagBytes, guestResources, oplog } = workerData;
const bindings = await import(pathToFileURL(join(dir, "scenario.js")).href);
const modules = new Map();

function coreModule(name) {
  if (!modules.has(name)) modules.set(name, new WebAssembly.Module(readFileSync(join(dir, name))));
  return modules.get(name);
}

function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function comparable(name) {
  return name.replace(/[^A-Za-z0-9]/g, "").toLowerCase();
}

/** The import object: every interface the transpiled component names, served by ``host``. */
function importsFor(host, sink) {
  const served = {};
  const classes = host.classes;
  for (const name of imports) {
    const bare = name.replace(/@[^/]*$/, "");
    let found;
    if (bare.endsWith("/streams")) {
      found = { InputStream: classes["input-stream"], OutputStream: classes["output-stream"], Pollable: classes.pollable };
    } else if (bare.endsWith("/host")) {
      found = { openInput: (contents) => host.openInput(contents), openOutput: () => host.openOutput() };
    } else if (bare.endsWith("-probe")) {
      found = { emit: host.emitter(bare.slice(0, -"-probe".length)) };
    } else if (bare.endsWith("/probe")) {
      found = { emit: host.emitter("") };
    } else if (bare.endsWith("-destructors")) {
      found = {};
      for (const resource of guestResources) found[camel(`destroyed-${resource}`)] = host.guestDestroyed(resource);
    } else if (bare === "oplog-sink") {
      found = { append: (site, position, value) => sink.push(site, position, value) };
    } else {
      throw new Error(`the jco runner serves no import named ${name}`);
    }
    served[name] = found;
    served[bare] = found;
  }
  return served;
}

async function instantiate() {
  const host = new StreamHost(emitsPerStep, emitTagBytes);
  const sink = [];
  const exports = await bindings.instantiate(coreModule, importsFor(host, sink));
  const byName = new Map(Object.keys(exports).map((key) => [comparable(key), exports[key]]));
  const func = (name) => byName.get(comparable(name));
  return { host, sink, func };
}

function call(run, step) {
  const driver = run.func(`${step.component}-run`);
  if (driver === undefined) {
    return { status: "trap", trap: null, message: `component ${step.component} exports no driver` };
  }
  try {
    const value = driver(step.op, BigInt(step.arg));
    return { status: "value", value: String(value) };
  } catch (error) {
    const [trap, message] = classify(error, HostTrap);
    return { status: "trap", trap, message };
  }
}

const LOST_NONE = "00000000";

function hexWords(words) {
  const buffer = Buffer.alloc(words.length * 4);
  words.forEach((word, at) => buffer.writeUInt32LE(word >>> 0, at * 4));
  return LOST_NONE + buffer.toString("hex");
}

/**
 * The op log of step ``upto``, which trapped: a fresh instance runs the earlier steps
 * again, then step ``upto`` with every record handed to the host as it is made. The
 * ops count as complete when the replay ends exactly as the run did.
 */
async function replayed(upto, outcome) {
  try {
    const replay = await instantiate();
    for (const step of steps.slice(0, upto)) {
      replay.host.beginStep();
      call(replay, step);
    }
    replay.func("oplog-drain")();
    replay.func("oplog-verbose")();
    replay.host.beginStep();
    const again = call(replay, steps[upto]);
    const same = again.status === outcome.status && again.trap === outcome.trap && again.message === outcome.message;
    return { oplog: hexWords(replay.sink), opsComplete: same };
  } catch {
    return { oplog: null, opsComplete: false };
  }
}

let run;

parentPort.on("message", async (command) => {
  try {
    if (command.cmd === "instantiate") {
      run = await instantiate();
      run.host.journal = (entry) => parentPort.postMessage({ journal: entry });
      parentPort.postMessage({ ok: true });
    } else if (command.cmd === "step") {
      parentPort.postMessage(await step(command.index));
    } else if (command.cmd === "finish") {
      parentPort.postMessage({ live: run.host.liveResources() });
    }
  } catch (error) {
    parentPort.postMessage({ error: `${error?.name ?? "Error"}: ${error?.message ?? error}` });
  }
});

async function step(index) {
  const host = run.host;
  const events = host.events.length;
  const emits = host.emits.length;
  host.beginStep();
  const outcome = call(run, steps[index]);
  let oplogText = null;
  let opsComplete = true;
  if (oplog && outcome.status === "value") {
    oplogText = String(run.func("oplog-drain")());
  } else if (oplog && outcome.trap !== "resource-limit") {
    ({ oplog: oplogText, opsComplete } = await replayed(index, outcome));
  } else if (oplog) {
    opsComplete = false;
  }
  return {
    outcome,
    emits: host.emits.slice(emits),
    events: host.events.slice(events),
    oplog: oplogText,
    ops_complete: opsComplete,
  };
}
