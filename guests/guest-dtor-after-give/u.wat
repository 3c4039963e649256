;; Uses component c's `counter` resource: makes one, bumps it, and either drops
;; it itself or gives it to c's `consume`.
(module
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctor (param i64) (result i32)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $bump (param i32 i64) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.get" (func $get (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "consume" (func $consume (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 32) "handle")
  (data (i32.const 48) "dropped")
  (data (i32.const 64) "gave-own")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 512))
  ;; op 1: make a counter starting at `arg` and bump it by 1 (a borrow for the call); returns its value.
  ;; op 2: drop the counter. op 3: give the counter to c's `consume`; returns its value.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $ctor (local.get $arg)))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (global.get $h)))
        (return (call $bump (global.get $h) (i64.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $emit (i32.const 48) (i32.const 7) (i64.extend_i32_u (global.get $h)))
        (call $drop (global.get $h))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $emit (i32.const 64) (i32.const 8) (i64.extend_i32_u (global.get $h)))
        (return (call $consume (global.get $h)))))
    unreachable)
)
