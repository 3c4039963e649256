;; Uses component c's `counter`: makes one, calls its methods (lending it to c)
;; and gives it back to c's `consume`.
(module
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctor (param i64) (result i32)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $bump (param i32 i64) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.get" (func $get (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "consume" (func $consume (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "handle")
  (data (i32.const 32) "lent")
  (data (i32.const 48) "gave-own")
  (func $emit_i (param $tag i32) (param $len i32) (param $v i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $v))))
  ;; op 1: make a counter starting at `arg`, bump it by 5.
  ;; op 2: read it. op 3: give it to c's `consume`.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $ctor (local.get $arg)))
        (call $emit_i (i32.const 16) (i32.const 6) (global.get $h))
        (call $emit_i (i32.const 32) (i32.const 4) (global.get $h))
        (return (call $bump (global.get $h) (i64.const 5)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $emit_i (i32.const 32) (i32.const 4) (global.get $h))
        (return (call $get (global.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $emit_i (i32.const 48) (i32.const 8) (global.get $h))
        (return (call $consume (global.get $h)))))
    unreachable)
)
