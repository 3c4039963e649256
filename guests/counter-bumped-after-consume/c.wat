;; Defines the `counter` resource: its rep is the address of an i64 cell.
;; `consume` reads a counter's last value and drops the handle it was given.
(module
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-new]counter" (func $new (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-rep]counter" (func $rep (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $cells (mut i32) (i32.const 256))
  (func (export "handle-compat:io/counters@0.1.0#[constructor]counter") (param $start i64) (result i32)
    (local $cell i32)
    (local.set $cell (global.get $cells))
    (global.set $cells (i32.add (global.get $cells) (i32.const 8)))
    (i64.store (local.get $cell) (local.get $start))
    (call $new (local.get $cell)))
  ;; Methods receive the rep: a borrow of a component's own resource type is
  ;; lowered as its rep (CanonicalABI.md lower_borrow).
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.bump") (param $cell i32) (param $by i64) (result i64)
    (i64.store (local.get $cell) (i64.add (i64.load (local.get $cell)) (local.get $by)))
    (i64.load (local.get $cell)))
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.get") (param $cell i32) (result i64)
    (i64.load (local.get $cell)))
  ;; consume receives an own: a handle in this component's table. Reads the
  ;; cell through resource.rep and drops the handle.
  (func (export "handle-compat:io/counters@0.1.0#consume") (param $h i32) (result i64)
    (local $value i64)
    (local.set $value (i64.load (call $rep (local.get $h))))
    (call $drop (local.get $h))
    (local.get $value))
  ;; op 1: how many counters were made.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (i64.extend_i32_u (i32.shr_u (i32.sub (global.get $cells) (i32.const 256)) (i32.const 3))))
)
