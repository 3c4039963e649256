;; Implements `peer`: takes streams by `own` and keeps them, uses borrows for
;; the length of the call, and reads through plain integers it is given.
(module
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $kept (mut i32) (i32.const 0))
  (data (i32.const 32) "received")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.const -1))
      (else (i64.extend_i32_u (i32.load (i32.const 72))))))
  ;; take: keep the stream, read 2 bytes from it, return the count.
  (func (export "handle-compat:io/peer@0.1.0#take") (param $h i32) (result i64)
    (global.set $kept (local.get $h))
    (call $emit (i32.const 32) (i32.const 8) (i64.extend_i32_u (local.get $h)))
    (call $read_len (local.get $h) (i64.const 2)))
  ;; lend: read 1 byte through the borrow, return the count.
  (func (export "handle-compat:io/peer@0.1.0#lend") (param $h i32) (result i64)
    (call $read_len (local.get $h) (i64.const 1)))
  ;; poke: treat the integer as a stream handle and read 1 byte.
  (func (export "handle-compat:io/peer@0.1.0#poke") (param $raw i32) (result i64)
    (call $read_len (local.get $raw) (i64.const 1)))
  ;; poke-list: treat the first integer of the list as a stream handle.
  (func (export "handle-compat:io/peer@0.1.0#poke-list") (param $ptr i32) (param $len i32) (result i64)
    (call $read_len (i32.load (local.get $ptr)) (i64.const 1)))
  ;; hand-back: give the kept stream back to the caller.
  (func (export "handle-compat:io/peer@0.1.0#hand-back") (result i32)
    (global.get $kept))
  ;; op 1: read 1 byte from the kept stream. op 2: drop it.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (call $read_len (global.get $kept) (i64.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (call $drop (global.get $kept)) (return (i64.const 0))))
    unreachable)
)
