;; Run as two components, a and b. Each opens streams of different lengths,
;; reports the index it got for each (tag `handle`) and later reads them back
;; by position, never by index value.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  ;; How many streams are held; their handles are kept at 256 + 4k.
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 16) "abcdefghij")
  (data (i32.const 32) "handle")
  (data (i32.const 48) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $slot (param $k i32) (result i32)
    (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 2))))
  ;; op 1: open a stream over the first `arg` (0..10) bytes of "abcdefghij" and
  ;;       keep it in the next slot; returns how many streams are held.
  ;; op 2: read up to 16 bytes from slot `arg`: the count, -1 for `ended`,
  ;;       -2 for `closed` (result at 64: tag, list len at 72, error at 68).
  ;; op 3: drop every held stream; returns how many were dropped.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32) (local $k i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.wrap_i64 (local.get $arg))))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (local.get $h)))
        (i32.store (call $slot (global.get $count)) (local.get $h))
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (return (i64.extend_i32_u (global.get $count)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $read (i32.load (call $slot (i32.wrap_i64 (local.get $arg)))) (i64.const 16) (i32.const 64))
        (return
          (if (result i64) (i32.load8_u (i32.const 64))
            (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))
            (else (i64.extend_i32_u (i32.load (i32.const 72))))))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (block $done
          (loop $each
            (br_if $done (i32.ge_u (local.get $k) (global.get $count)))
            (local.set $h (i32.load (call $slot (local.get $k))))
            (call $emit (i32.const 48) (i32.const 7) (i64.extend_i32_u (local.get $h)))
            (call $drop (local.get $h))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $each)))
        (global.set $count (i32.const 0))
        (return (i64.extend_i32_u (local.get $k)))))
    unreachable)
)
