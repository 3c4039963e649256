;; Defines the `counter` resource with a destructor: its rep is the address of
;; an i64 cell. The destructor counts its runs and reports the cell's value.
;; `consume` either drops the own it receives or, once told to, keeps it.
(module
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-new]counter" (func $new (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-rep]counter" (func $rep (param i32) (result i32)))
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $cells (mut i32) (i32.const 256))
  (global $destroyed (mut i64) (i64.const 0))
  (global $keep (mut i32) (i32.const 0))
  (global $kept (mut i32) (i32.const 0))
  (data (i32.const 32) "dtor")
  (data (i32.const 48) "handle")
  (data (i32.const 64) "dropped")
  (func $make (param $start i64) (result i32)
    (local $cell i32)
    (local.set $cell (global.get $cells))
    (global.set $cells (i32.add (global.get $cells) (i32.const 8)))
    (i64.store (local.get $cell) (local.get $start))
    (call $new (local.get $cell)))
  (func (export "handle-compat:io/counters@0.1.0#[constructor]counter") (param $start i64) (result i32)
    (call $make (local.get $start)))
  ;; Methods receive the rep (CanonicalABI.md lower_borrow).
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.bump") (param $cell i32) (param $by i64) (result i64)
    (i64.store (local.get $cell) (i64.add (i64.load (local.get $cell)) (local.get $by)))
    (i64.load (local.get $cell)))
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.get") (param $cell i32) (result i64)
    (i64.load (local.get $cell)))
  ;; consume receives an own: reads the cell, then drops the handle, or keeps it
  ;; once op 3 asked to.
  (func (export "handle-compat:io/counters@0.1.0#consume") (param $h i32) (result i64)
    (local $value i64)
    (local.set $value (i64.load (call $rep (local.get $h))))
    (if (global.get $keep)
      (then
        (global.set $kept (local.get $h))
        (call $emit (i32.const 48) (i32.const 6) (i64.extend_i32_u (local.get $h))))
      (else
        (call $emit (i32.const 64) (i32.const 7) (i64.extend_i32_u (local.get $h)))
        (call $drop (local.get $h))))
    (local.get $value))
  ;; The destructor (wit-component's name for it): the component model calls it
  ;; with the rep when the last own is dropped, in whichever component.
  (func (export "handle-compat:io/counters@0.1.0#[dtor]counter") (param $cell i32)
    (global.set $destroyed (i64.add (global.get $destroyed) (i64.const 1)))
    (call $emit (i32.const 32) (i32.const 4) (i64.load (local.get $cell))))
  ;; op 1: how many times the destructor ran.
  ;; op 2: make a counter starting at `arg` and drop it here; returns the destructor runs.
  ;; op 3: from now on, consume keeps the own it receives.
  ;; op 4: the value of the kept counter, read through resource.rep.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (global.get $destroyed))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (local.set $h (call $make (local.get $arg)))
        (call $emit (i32.const 48) (i32.const 6) (i64.extend_i32_u (local.get $h)))
        (call $emit (i32.const 64) (i32.const 7) (i64.extend_i32_u (local.get $h)))
        (call $drop (local.get $h))
        (return (global.get $destroyed))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (global.set $keep (i32.const 1)) (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then (return (i64.load (call $rep (global.get $kept))))))
    unreachable)
)
