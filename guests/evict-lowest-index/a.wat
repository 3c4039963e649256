;; Keeps at most two streams open. Opening a third first closes the oldest
;; open one, found as the lowest handle index (handles only ever went up).
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  ;; The two cache slots (0 = empty).
  (global $s0 (mut i32) (i32.const 0))
  (global $s1 (mut i32) (i32.const 0))
  ;; Handles in the order they were opened, at 256 + 4k, k < $opened.
  (global $opened (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 128) "handle")
  (data (i32.const 144) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $emit_h (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  (func $close (param $h i32)
    (call $emit_h (i32.const 144) (i32.const 7) (local.get $h))
    (call $drop (local.get $h)))
  (func $count (result i64)
    (i64.extend_i32_u (i32.add (i32.ne (global.get $s0) (i32.const 0)) (i32.ne (global.get $s1) (i32.const 0)))))
  ;; Closes the open stream with the lowest index.
  (func $evict_oldest
    (if (i32.lt_u (global.get $s0) (global.get $s1))
      (then (call $close (global.get $s0)) (global.set $s0 (i32.const 0)))
      (else (call $close (global.get $s1)) (global.set $s1 (i32.const 0)))))
  ;; Closes `h` if it is in a slot.
  (func $close_slot (param $h i32)
    (if (i32.and (i32.ne (local.get $h) (i32.const 0)) (i32.eq (global.get $s0) (local.get $h)))
      (then (call $close (local.get $h)) (global.set $s0 (i32.const 0)) (return)))
    (if (i32.and (i32.ne (local.get $h) (i32.const 0)) (i32.eq (global.get $s1) (local.get $h)))
      (then (call $close (local.get $h)) (global.set $s1 (i32.const 0)))))
  ;; op 1: open a stream over "hello", making room first; returns how many are open.
  ;; op 2: close the stream opened `arg`-th (0-based); returns how many are open.
  ;; op 3: shutdown: close every open stream; returns how many are open.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (if (i32.and (i32.ne (global.get $s0) (i32.const 0)) (i32.ne (global.get $s1) (i32.const 0)))
          (then (call $evict_oldest)))
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $emit_h (i32.const 128) (i32.const 6) (local.get $h))
        (i32.store (i32.add (i32.const 256) (i32.shl (global.get $opened) (i32.const 2))) (local.get $h))
        (global.set $opened (i32.add (global.get $opened) (i32.const 1)))
        (if (i32.eqz (global.get $s0))
          (then (global.set $s0 (local.get $h)))
          (else (global.set $s1 (local.get $h))))
        (return (call $count))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $close_slot (i32.load (i32.add (i32.const 256) (i32.shl (i32.wrap_i64 (local.get $arg)) (i32.const 2)))))
        (return (call $count))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (if (global.get $s0) (then (call $close (global.get $s0)) (global.set $s0 (i32.const 0))))
        (if (global.get $s1) (then (call $close (global.get $s1)) (global.set $s1 (i32.const 0))))
        (return (call $count))))
    unreachable)
)
