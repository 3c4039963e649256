;; Run as two components, u1 and u2, both using component c's `counter`
;; resource. Each keeps the counters it makes in slots and finds them by slot.
(module
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctor (param i64) (result i32)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $bump (param i32 i64) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.get" (func $get (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "consume" (func $consume (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  ;; How many counters were made; their handles are kept at 256 + 4k.
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 32) "handle")
  (data (i32.const 48) "gave-own")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 512))
  (func $slot (param $k i64) (result i32)
    (i32.add (i32.const 256) (i32.shl (i32.wrap_i64 (local.get $k)) (i32.const 2))))
  ;; op 1: make a counter starting at `arg` in the next slot; returns how many were made.
  ;; op 2: bump the counter in slot `arg` by 1; returns its new value.
  ;; op 3: read the counter in slot `arg`.
  ;; op 4: give the counter in slot `arg` to c's `consume`; returns its final value.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $ctor (local.get $arg)))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (local.get $h)))
        (i32.store (call $slot (i64.extend_i32_u (global.get $count))) (local.get $h))
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (return (i64.extend_i32_u (global.get $count)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $bump (i32.load (call $slot (local.get $arg))) (i64.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $get (i32.load (call $slot (local.get $arg)))))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (local.set $h (i32.load (call $slot (local.get $arg))))
        (call $emit (i32.const 48) (i32.const 8) (i64.extend_i32_u (local.get $h)))
        (return (call $consume (local.get $h)))))
    unreachable)
)
