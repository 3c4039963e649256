;; Reads a stream over "hello world" in pieces, past its end, skips, closes it
;; and reads again. Results are returned as values that say what the guest saw:
;;   n >= 0  bytes read (or skipped),
;;   -1      stream-error `ended`,
;;   -2      stream-error `closed`
;; (-1 - the enum's case number).
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.skip" (func $skip (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.close" (func $close (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $h (mut i32) (i32.const 0))
  ;; Last byte of the last successful read, -1 before any.
  (global $last (mut i64) (i64.const -1))
  (data (i32.const 16) "hello world")
  (data (i32.const 32) "handle")
  (data (i32.const 40) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; read: result<list<u8>, stream-error> at 64 (variant payload aligned to 4):
  ;; tag u8 at 64; ok: list ptr at 68, len at 72; error: enum u8 at 68.
  (func $read_res (param $h i32) (param $len i64) (result i64)
    (local $n i32)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (i32.load8_u (i32.const 64))
      (then (return (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))))
    (local.set $n (i32.load (i32.const 72)))
    (if (local.get $n)
      (then (global.set $last (i64.load8_u (i32.sub (i32.add (i32.load (i32.const 68)) (local.get $n)) (i32.const 1))))))
    (i64.extend_i32_u (local.get $n)))
  ;; skip: result<u64, stream-error> at 80 (payload aligned to 8):
  ;; tag u8 at 80; ok: u64 at 88; error: enum u8 at 88.
  (func $skip_res (param $h i32) (param $len i64) (result i64)
    (call $skip (local.get $h) (local.get $len) (i32.const 80))
    (if (result i64) (i32.load8_u (i32.const 80))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 88))))
      (else (i64.load (i32.const 88)))))
  ;; op 1: open a stream over "hello world" (11 bytes), read `arg` bytes.
  ;; op 2: read `arg` bytes.   op 3: skip `arg` bytes.
  ;; op 4: close the stream (returns 0).   op 5: drop it (returns 0).
  ;; op 6: the last byte of the last successful read.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $open_input (i32.const 16) (i32.const 11)))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (global.get $h)))
        (return (call $read_res (global.get $h) (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $read_res (global.get $h) (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $skip_res (global.get $h) (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then (call $close (global.get $h)) (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then
        (call $emit (i32.const 40) (i32.const 7) (i64.extend_i32_u (global.get $h)))
        (call $drop (global.get $h))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 6))
      (then (return (global.get $last))))
    unreachable)
)
