;; Uses component c's `counter` resource: makes two counters, gives both to c's
;; `consume` (which links them into a cycle), and can drop the index of the
;; first afterwards, as pseudo-handle era code that kept its variables did.
(module
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctor (param i64) (result i32)))
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $bump (param i32 i64) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "consume" (func $consume (param i32) (result i64)))
  (import "handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $a (mut i32) (i32.const 0))
  (global $b (mut i32) (i32.const 0))
  (data (i32.const 32) "handle")
  (data (i32.const 48) "dropped")
  (data (i32.const 64) "gave-own")
  (func $make (param $start i64) (result i32)
    (local $h i32)
    (local.set $h (call $ctor (local.get $start)))
    (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (local.get $h)))
    (local.get $h))
  (func $give (param $h i32) (result i64)
    (call $emit (i32.const 64) (i32.const 8) (i64.extend_i32_u (local.get $h)))
    (call $consume (local.get $h)))
  ;; op 1: make counter a starting at `arg` and bump it by 1; returns its value.
  ;; op 2: the same for counter b.
  ;; op 3: give a to c's `consume`; op 4: give b; each returns the counter's value.
  ;; op 5: drop the index of a (given away in op 3).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $a (call $make (local.get $arg)))
        (return (call $bump (global.get $a) (i64.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (global.set $b (call $make (local.get $arg)))
        (return (call $bump (global.get $b) (i64.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $give (global.get $a)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then (return (call $give (global.get $b)))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then
        (call $emit (i32.const 48) (i32.const 7) (i64.extend_i32_u (global.get $a)))
        (call $drop (global.get $a))
        (return (i64.const 0))))
    unreachable)
)
