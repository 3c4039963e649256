;; Uses component c's `counter`: makes one and bumps it.
(module
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctor (param i64) (result i32)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $bump (param i32 i64) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.get" (func $get (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "consume" (func $consume (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "handle")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 512))
  ;; op 1: make a counter starting at `arg`; returns its value.
  ;; op 2: bump it by `arg`; returns the new value.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $ctor (local.get $arg)))
        (call $emit (i32.const 16) (i32.const 6) (i64.extend_i32_u (global.get $h)))
        (return (call $get (global.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $bump (global.get $h) (local.get $arg)))))
    unreachable)
)
