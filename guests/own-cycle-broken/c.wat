;; Defines the `counter` resource with a destructor. A counter is a node: its
;; rep is the address of a 16-byte cell (+0 the i64 value, +8 the output stream
;; the node opened, +12 the own handle of its partner, 0 for none).
;; `consume` keeps the first counter it receives; the second is linked with it,
;; so each holds the only own of the other: a cycle of owns inside c's table.
(module
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-new]counter" (func $new (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-rep]counter" (func $rep (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $drop (param i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_output (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $cells (mut i32) (i32.const 256))
  (global $destroyed (mut i64) (i64.const 0))
  ;; The own handle of the counter waiting for a partner, 0 for none.
  (global $pending (mut i32) (i32.const 0))
  ;; The rep of the first node of the last cycle made.
  (global $ring (mut i32) (i32.const 0))
  (data (i32.const 32) "dtor")
  (func $make (param $start i64) (result i32)
    (local $cell i32)
    (local.set $cell (global.get $cells))
    (global.set $cells (i32.add (global.get $cells) (i32.const 16)))
    (i64.store (local.get $cell) (local.get $start))
    (i32.store offset=8 (local.get $cell) (call $open_output))
    (i32.store offset=12 (local.get $cell) (i32.const 0))
    (call $new (local.get $cell)))
  (func (export "handle-compat:io/counters@0.1.0#[constructor]counter") (param $start i64) (result i32)
    (call $make (local.get $start)))
  ;; Methods receive the rep (CanonicalABI.md lower_borrow).
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.bump") (param $cell i32) (param $by i64) (result i64)
    (i64.store (local.get $cell) (i64.add (i64.load (local.get $cell)) (local.get $by)))
    (i64.load (local.get $cell)))
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.get") (param $cell i32) (result i64)
    (i64.load (local.get $cell)))
  ;; consume receives an own and keeps it: the first waits, the second closes
  ;; the cycle (the first's cell holds the second's own and the other way round).
  ;; Returns the value of the counter received.
  (func (export "handle-compat:io/counters@0.1.0#consume") (param $h i32) (result i64)
    (local $cell i32)
    (local $first i32)
    (local.set $cell (call $rep (local.get $h)))
    (if (i32.eqz (global.get $pending))
      (then (global.set $pending (local.get $h)))
      (else
        (local.set $first (call $rep (global.get $pending)))
        (i32.store offset=12 (local.get $first) (local.get $h))
        (i32.store offset=12 (local.get $cell) (global.get $pending))
        (global.set $ring (local.get $first))
        (global.set $pending (i32.const 0))))
    (i64.load (local.get $cell)))
  ;; The destructor: counts its runs, reports the value, then releases what the
  ;; node holds: its stream and its own of the partner. Before dropping the
  ;; partner it clears the partner's link back to this node, whose own dies
  ;; with it. Under real handles that link is already cleared whenever this
  ;; runs (this node's own lived in it and was dropped from there).
  (func (export "handle-compat:io/counters@0.1.0#[dtor]counter") (param $cell i32)
    (local $next i32)
    (global.set $destroyed (i64.add (global.get $destroyed) (i64.const 1)))
    (call $emit (i32.const 32) (i32.const 4) (i64.load (local.get $cell)))
    (local.set $next (i32.load offset=12 (local.get $cell)))
    (i32.store offset=12 (local.get $cell) (i32.const 0))
    (if (local.get $next)
      (then (i32.store offset=12 (call $rep (local.get $next)) (i32.const 0))))
    (call $drop_output (i32.load offset=8 (local.get $cell)))
    (if (local.get $next)
      (then (call $drop (local.get $next)))))
  ;; op 1: how many times the destructor ran.
  ;; op 2: break the last cycle: take the own out of its first node's cell and
  ;; drop it; returns the destructor runs.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (global.get $destroyed))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (local.set $h (i32.load offset=12 (global.get $ring)))
        (i32.store offset=12 (global.get $ring) (i32.const 0))
        (call $drop (local.get $h))
        (return (global.get $destroyed))))
    unreachable)
)
