;; Implements `peer`; `poke` stores the integer it receives as a stream index,
;; and the driver later reads through it.
(module
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $kept (mut i32) (i32.const 0))
  (global $told (mut i32) (i32.const 0))
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
  ;; take: keep the stream, read 2 bytes from it.
  (func (export "handle-compat:io/peer@0.1.0#take") (param $h i32) (result i64)
    (global.set $kept (local.get $h))
    (call $read_len (local.get $h) (i64.const 2)))
  ;; lend: read 1 byte through the borrow, drop the borrow.
  (func (export "handle-compat:io/peer@0.1.0#lend") (param $h i32) (result i64)
    (local $n i64)
    (local.set $n (call $read_len (local.get $h) (i64.const 1)))
    (call $drop (local.get $h))
    (local.get $n))
  ;; poke: remember the integer as a stream index; returns 0.
  (func (export "handle-compat:io/peer@0.1.0#poke") (param $raw i32) (result i64)
    (global.set $told (local.get $raw))
    (i64.const 0))
  ;; poke-list: not used in this scenario; returns the list length.
  (func (export "handle-compat:io/peer@0.1.0#poke-list") (param $ptr i32) (param $len i32) (result i64)
    (i64.extend_i32_u (local.get $len)))
  ;; hand-back: give the kept stream back.
  (func (export "handle-compat:io/peer@0.1.0#hand-back") (result i32)
    (global.get $kept))
  ;; lend-then-take: keep the owned stream, read 1 byte through the borrow, drop the borrow.
  (func (export "handle-compat:io/peer@0.1.0#lend-then-take") (param $lent i32) (param $owned i32) (result i64)
    (local $n i64)
    (global.set $kept (local.get $owned))
    (local.set $n (call $read_len (local.get $lent) (i64.const 1)))
    (call $drop (local.get $lent))
    (local.get $n))
  ;; op 1: read up to `arg` bytes through the index poke was told.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (call $read_len (global.get $told) (local.get $arg)))))
    unreachable)
)
