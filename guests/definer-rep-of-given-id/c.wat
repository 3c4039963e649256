;; Defines the `counter` resource (its rep is the address of an i64 cell) and
;; keeps a registry of the counters it made, identified by the handle
;; resource.new returned for each. It also opens a log stream of its own.
(module
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-new]counter" (func $new (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-rep]counter" (func $rep (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $drop (param i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $cells (mut i32) (i32.const 256))
  (global $log (mut i32) (i32.const 0))
  ;; Handles of the counters made, at 512 + 4k, in order.
  (global $made (mut i32) (i32.const 0))
  (data (i32.const 16) "handle")
  (data (i32.const 32) "gave-own")
  (func $emit_h (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; The constructor records the new handle as the counter's id, then returns
  ;; it to the caller as the own result.
  (func (export "handle-compat:io/counters@0.1.0#[constructor]counter") (param $start i64) (result i32)
    (local $cell i32) (local $h i32)
    (local.set $cell (global.get $cells))
    (global.set $cells (i32.add (global.get $cells) (i32.const 8)))
    (i64.store (local.get $cell) (local.get $start))
    (local.set $h (call $new (local.get $cell)))
    (i32.store (i32.add (i32.const 512) (i32.shl (global.get $made) (i32.const 2))) (local.get $h))
    (global.set $made (i32.add (global.get $made) (i32.const 1)))
    (call $emit_h (i32.const 32) (i32.const 8) (local.get $h))
    (local.get $h))
  ;; Methods receive the rep: a borrow of a component's own resource type is
  ;; lowered as its rep (CanonicalABI.md lower_borrow).
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.bump") (param $cell i32) (param $by i64) (result i64)
    (i64.store (local.get $cell) (i64.add (i64.load (local.get $cell)) (local.get $by)))
    (i64.load (local.get $cell)))
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.get") (param $cell i32) (result i64)
    (i64.load (local.get $cell)))
  ;; consume receives an own: a handle in this component's table.
  (func (export "handle-compat:io/counters@0.1.0#consume") (param $h i32) (result i64)
    (local $value i64)
    (local.set $value (i64.load (call $rep (local.get $h))))
    (call $drop (local.get $h))
    (local.get $value))
  ;; op 1: open the log stream.
  ;; op 2: audit: the value of the `arg`-th counter made, found through
  ;;       resource.rep of the id recorded for it.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $log (call $open_output))
        (call $emit_h (i32.const 16) (i32.const 6) (global.get $log))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (local.set $h (i32.load (i32.add (i32.const 512) (i32.shl (i32.wrap_i64 (local.get $arg)) (i32.const 2)))))
        (call $emit_h (i32.const 16) (i32.const 6) (local.get $h))
        (return (i64.load (call $rep (local.get $h))))))
    unreachable)
)
