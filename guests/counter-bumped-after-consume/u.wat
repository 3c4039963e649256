;; Uses component c's `counter`: keeps a first counter in one variable, gives
;; it to c's `consume` without clearing the variable, makes a second counter,
;; then bumps through the first variable again.
(module
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctor (param i64) (result i32)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $bump (param i32 i64) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.get" (func $get (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "consume" (func $consume (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $first (mut i32) (i32.const 0))
  (global $second (mut i32) (i32.const 0))
  (data (i32.const 16) "handle")
  (data (i32.const 32) "gave-own")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 512))
  (func $emit_h (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; op 1: make the first counter starting at `arg`; returns its value.
  ;; op 2: give the first counter to c's `consume`; returns what c read.
  ;; op 3: make the second counter starting at `arg`; returns its value.
  ;; op 4: bump the first counter by 1 through its variable; returns the new value.
  ;; op 5: read the second counter.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $first (call $ctor (local.get $arg)))
        (call $emit_h (i32.const 16) (i32.const 6) (global.get $first))
        (return (call $get (global.get $first)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $emit_h (i32.const 32) (i32.const 8) (global.get $first))
        (return (call $consume (global.get $first)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (global.set $second (call $ctor (local.get $arg)))
        (call $emit_h (i32.const 16) (i32.const 6) (global.get $second))
        (return (call $get (global.get $second)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $emit_h (i32.const 16) (i32.const 6) (global.get $first))
        (return (call $bump (global.get $first) (i64.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then (return (call $get (global.get $second)))))
    unreachable)
)
