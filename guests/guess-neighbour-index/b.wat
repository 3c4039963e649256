;; Opens one stream of its own, then reads through the index next to it: code
;; that expects the next stream opened in the store to sit at its own index + 1.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $mine (mut i32) (i32.const 0))
  (data (i32.const 16) "xy")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; Reads up to `len` bytes from handle `h`: bytes read, or -1 on a stream error.
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.const -1))
      (else (i64.extend_i32_u (i32.load (i32.const 72))))))
  ;; op 1: open a stream over "xy" and keep it.
  ;; op 2: read 1 byte through the index after b's own (its index + 1).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $mine (call $open_input (i32.const 16) (i32.const 2)))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $read_len (i32.add (global.get $mine) (i32.const 1)) (i64.const 1)))))
    unreachable)
)
