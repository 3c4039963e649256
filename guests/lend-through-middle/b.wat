;; The middle of the chain: implements `peer` for a by passing streams on to
;; its own `peer` import (component c), and takes one byte from each stream
;; that goes through it, in either direction.
(module
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $c_take (param i32) (result i64)))
  (import "handle-compat:io/peer@0.1.0" "lend" (func $c_lend (param i32) (result i64)))
  (import "handle-compat:io/peer@0.1.0" "hand-back" (func $c_hand_back (result i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $passed (mut i64) (i64.const 0))
  (data (i32.const 32) "received")
  (data (i32.const 48) "gave-own")
  (data (i32.const 112) "lent")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; read: result<list<u8>, stream-error> at 64: tag at 64, list len at 72,
  ;; error enum at 68. Bytes read, -1 for `ended`, -2 for `closed`.
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))
      (else (i64.extend_i32_u (i32.load (i32.const 72))))))
  (func $note (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; take: read 1 byte, pass the stream on to c as own; returns the bytes read
  ;; here plus what c's take returned. b keeps nothing.
  (func (export "handle-compat:io/peer@0.1.0#take") (param $h i32) (result i64)
    (local $n i64)
    (call $note (i32.const 32) (i32.const 8) (local.get $h))
    (local.set $n (call $read_len (local.get $h) (i64.const 1)))
    (call $note (i32.const 48) (i32.const 8) (local.get $h))
    (global.set $passed (i64.add (global.get $passed) (i64.const 1)))
    (i64.add (local.get $n) (call $c_take (local.get $h))))
  ;; lend: read 1 byte through the borrow, lend it on to c, drop the borrow;
  ;; returns the bytes read here plus what c's lend returned.
  (func (export "handle-compat:io/peer@0.1.0#lend") (param $h i32) (result i64)
    (local $n i64)
    (call $note (i32.const 32) (i32.const 8) (local.get $h))
    (local.set $n (call $read_len (local.get $h) (i64.const 1)))
    (call $note (i32.const 112) (i32.const 4) (local.get $h))
    (local.set $n (i64.add (local.get $n) (call $c_lend (local.get $h))))
    (call $drop (local.get $h))
    (local.get $n))
  ;; poke, poke-list: not used here; an integer is not a handle.
  (func (export "handle-compat:io/peer@0.1.0#poke") (param $raw i32) (result i64)
    unreachable)
  (func (export "handle-compat:io/peer@0.1.0#poke-list") (param $ptr i32) (param $len i32) (result i64)
    unreachable)
  ;; hand-back: ask c for its stream, read 1 byte, give the stream to the caller.
  (func (export "handle-compat:io/peer@0.1.0#hand-back") (result i32)
    (local $h i32)
    (local.set $h (call $c_hand_back))
    (call $note (i32.const 32) (i32.const 8) (local.get $h))
    (drop (call $read_len (local.get $h) (i64.const 1)))
    (call $note (i32.const 48) (i32.const 8) (local.get $h))
    (global.set $passed (i64.add (global.get $passed) (i64.const 1)))
    (local.get $h))
  ;; lend-then-take: not used here.
  (func (export "handle-compat:io/peer@0.1.0#lend-then-take") (param $lent i32) (param $owned i32) (result i64)
    unreachable)
  ;; op 1: how many streams went through b as own (take or hand-back).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (global.get $passed))))
    unreachable)
)
