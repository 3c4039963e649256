// The host side of the handle-compat:io WIT package for jco, written over resource reps.
//
// It mirrors harness/execute/backends/host.py line for line: the same streams, the same
// parent/child rule (a stream with a live pollable cannot be destroyed: HasChildren), the
// same probe caps and the same event log, including the digest of every answer that
// leaves for the guest. Any difference between a jco trace and a wasmtime trace then
// comes from the handle tables, not from the host. suites/unit/test_jco.py checks it.
//
// jco finds a host object's rep through Symbol.for('cabiRep') (the object it was given
// back, or a fresh one carrying only the rep when the handle table holds a rep it never
// saw), and calls Symbol.dispose on it when the last own handle is dropped.

import { createHash } from "node:crypto";

export const CABI_REP = Symbol.for("cabiRep");
const CABI_DISPOSE = Symbol.for("cabiDispose");

/** A refusal of the host that traps the calling guest; ``kind`` is a harness trap kind. */
export class HostTrap extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "HostTrap";
    this.kind = kind;
  }
}

export const EMITS_TRUNCATED_TAG = "emits-truncated";

function digest(result) {
  if (result instanceof Uint8Array) {
    const hash = createHash("sha256").update(result).digest("hex").slice(0, 8);
    return `${result.length} bytes ${hash}`;
  }
  if (result === null || result === undefined) return "ok";
  if (typeof result === "boolean") return String(result);
  return String(result);
}

export class StreamHost {
  constructor(emitsPerStep, emitTagBytes) {
    this.nextRep = 1;
    this.live = new Map();
    this.events = [];
    this.emits = [];
    this.unanswered = null;
    this.emitsPerStep = emitsPerStep;
    this.emitTagBytes = emitTagBytes;
    this.stepStart = 0;
    this.classes = this.makeClasses();
    // Told of every change, as it happens, so the log survives a worker terminated mid-step.
    this.journal = null;
  }

  logEvent(at, event) {
    this.events[at] = event;
    this.journal?.(["event", at, event]);
  }

  setLive(rep, resource) {
    this.journal?.(["live", rep, resource]);
  }

  beginStep() {
    this.stepStart = this.emits.length;
  }

  create(resource, stream) {
    const rep = this.nextRep++;
    stream.resource = resource;
    this.live.set(rep, stream);
    this.setLive(rep, resource);
    this.logEvent(this.events.length, ["create", resource, rep, ""]);
    return rep;
  }

  get(rep, resource, method) {
    const stream = this.live.get(rep);
    if (stream === undefined || stream.resource !== resource) {
      throw new HostTrap("host-error", `host has no live ${resource} with rep ${rep}`);
    }
    this.unanswered = this.events.length;
    this.logEvent(this.events.length, ["call", resource, rep, method]);
    return stream;
  }

  answered(result) {
    const at = this.unanswered;
    this.unanswered = null;
    if (at !== null && at < this.events.length) {
      const [kind, resource, rep, detail] = this.events[at];
      this.logEvent(at, [kind, resource, rep, `${detail} -> ${digest(result)}`]);
    }
  }

  destroy(resource, rep) {
    let children = 0;
    for (const stream of this.live.values()) if (stream.parent === rep) children += 1;
    if (children) {
      throw new HostTrap("has-children", `HasChildren: ${resource} rep ${rep} still has ${children} live child(ren)`);
    }
    if (!this.live.delete(rep)) {
      throw new HostTrap("host-error", `destructor ran twice for ${resource} rep ${rep}`);
    }
    this.setLive(rep, null);
    this.logEvent(this.events.length, ["destroy", resource, rep, ""]);
  }

  guestDestroyed(resource) {
    return (rep) => {
      this.logEvent(this.events.length, ["destroy", resource, rep, ""]);
    };
  }

  liveResources() {
    return [...this.live.entries()].sort((x, y) => x[0] - y[0]).map(([rep, s]) => [s.resource, rep]);
  }

  // --- handle-compat:io/host --------------------------------------------------

  object(resource, rep) {
    const Class = this.classes[resource];
    const object = Object.create(Class.prototype);
    object[CABI_REP] = rep;
    return object;
  }

  openInput(contents) {
    const rep = this.create("input-stream", { data: Uint8Array.from(contents), closed: false, parent: null });
    this.answered(rep);
    return this.object("input-stream", rep);
  }

  openOutput() {
    const rep = this.create("output-stream", { data: new Uint8Array(0), closed: false, parent: null });
    this.answered(rep);
    return this.object("output-stream", rep);
  }

  // --- handle-compat:io/streams -------------------------------------------------

  take(rep, length, method) {
    const stream = this.get(rep, "input-stream", method);
    if (stream.closed) return "closed";
    if (stream.data.length === 0) return "ended";
    const count = length > BigInt(stream.data.length) ? stream.data.length : Number(length);
    const taken = stream.data.slice(0, count);
    stream.data = stream.data.slice(count);
    return taken;
  }

  read(rep, length) {
    const taken = this.take(rep, length, "read");
    this.answered(taken);
    return typeof taken === "string" ? { tag: "err", val: taken } : { tag: "ok", val: taken };
  }

  skip(rep, length) {
    const taken = this.take(rep, length, "skip");
    const answer = typeof taken === "string" ? taken : taken.length;
    this.answered(answer);
    return typeof answer === "string" ? { tag: "err", val: answer } : { tag: "ok", val: BigInt(answer) };
  }

  write(rep, contents) {
    const stream = this.get(rep, "output-stream", "write");
    let answer = "closed";
    if (!stream.closed) {
      const grown = new Uint8Array(stream.data.length + contents.length);
      grown.set(stream.data);
      grown.set(contents, stream.data.length);
      stream.data = grown;
      answer = contents.length;
    }
    this.answered(answer);
    return typeof answer === "string" ? { tag: "err", val: answer } : { tag: "ok", val: BigInt(answer) };
  }

  flush(rep) {
    const stream = this.get(rep, "output-stream", "flush");
    const answer = stream.closed ? "closed" : null;
    this.answered(answer);
    return answer === null ? { tag: "ok", val: undefined } : { tag: "err", val: answer };
  }

  close(resource, rep) {
    this.get(rep, resource, "close").closed = true;
    this.answered(null);
  }

  subscribe(resource, rep) {
    this.get(rep, resource, "subscribe");
    const child = this.create("pollable", { data: new Uint8Array(0), closed: false, parent: rep });
    this.answered(child);
    return this.object("pollable", child);
  }

  ready(rep) {
    this.get(rep, "pollable", "ready");
    this.answered(true);
    return true;
  }

  /** The resource classes jco's bindings call: methods find the rep through Symbol.for('cabiRep'). */
  makeClasses() {
    const host = this;
    const dispose = (resource) =>
      function () {
        host.destroy(resource, this[CABI_REP]);
      };
    class InputStream {
      read(length) {
        return host.read(this[CABI_REP], length);
      }
      skip(length) {
        return host.skip(this[CABI_REP], length);
      }
      subscribe() {
        return host.subscribe("input-stream", this[CABI_REP]);
      }
      close() {
        host.close("input-stream", this[CABI_REP]);
      }
    }
    class OutputStream {
      write(contents) {
        return host.write(this[CABI_REP], contents);
      }
      flush() {
        return host.flush(this[CABI_REP]);
      }
      subscribe() {
        return host.subscribe("output-stream", this[CABI_REP]);
      }
      close() {
        host.close("output-stream", this[CABI_REP]);
      }
    }
    class Pollable {
      ready() {
        return host.ready(this[CABI_REP]);
      }
    }
    const classes = { "input-stream": InputStream, "output-stream": OutputStream, pollable: Pollable };
    for (const [resource, Class] of Object.entries(classes)) {
      Class.prototype[Symbol.dispose] = dispose(resource);
      // Used by jco when it drops a handle whose host object it never held.
      Class[CABI_DISPOSE] = (rep) => host.destroy(resource, rep);
    }
    return classes;
  }

  // --- handle-compat:io/probe -----------------------------------------------------

  emitter(component) {
    return (tag, value) => {
      if (this.emits.length - this.stepStart >= this.emitsPerStep) {
        this.refuse(component, `more than ${this.emitsPerStep} emits in one step`);
      }
      if (tag.length > this.emitTagBytes || Buffer.byteLength(tag, "utf8") > this.emitTagBytes) {
        this.refuse(component, `an emit tag of more than ${this.emitTagBytes} bytes`);
      }
      this.addEmit([component, tag, String(value)]);
      this.answered(null);
    };
  }

  addEmit(emit) {
    this.emits.push(emit);
    this.journal?.(["emit", this.emits.length - 1, emit]);
  }

  refuse(component, what) {
    this.addEmit([component, EMITS_TRUNCATED_TAG, "1"]);
    throw new HostTrap("resource-limit", `emit cap: component ${component} made ${what}; the step ends here`);
  }
}
