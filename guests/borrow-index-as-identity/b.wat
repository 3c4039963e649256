;; Implements `peer`. `lend` reads 1 byte through the borrow and drops it, and
;; keeps a list of the streams it has been lent, telling streams apart by their
;; handle index (as if the index were the stream's identity).
(module
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $kept (mut i32) (i32.const 0))
  ;; The indices seen so far are kept at 256 + 4k, k < $seen.
  (global $seen (mut i32) (i32.const 0))
  (data (i32.const 128) "received")
  (data (i32.const 144) "dropped")
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
  (func $emit_h (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; Adds `h` to the list unless an equal index is already in it.
  (func $remember (param $h i32)
    (local $k i32)
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $k) (global.get $seen)))
        (if (i32.eq (i32.load (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 2)))) (local.get $h))
          (then (return)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $scan)))
    (i32.store (i32.add (i32.const 256) (i32.shl (global.get $seen) (i32.const 2))) (local.get $h))
    (global.set $seen (i32.add (global.get $seen) (i32.const 1))))
  ;; take: keep the stream, read 2 bytes from it.
  (func (export "handle-compat:io/peer@0.1.0#take") (param $h i32) (result i64)
    (call $emit_h (i32.const 128) (i32.const 8) (local.get $h))
    (global.set $kept (local.get $h))
    (call $read_len (local.get $h) (i64.const 2)))
  ;; lend: remember the stream by its index, read 1 byte, drop the borrow.
  (func (export "handle-compat:io/peer@0.1.0#lend") (param $h i32) (result i64)
    (local $n i64)
    (call $emit_h (i32.const 128) (i32.const 8) (local.get $h))
    (call $remember (local.get $h))
    (local.set $n (call $read_len (local.get $h) (i64.const 1)))
    (call $emit_h (i32.const 144) (i32.const 7) (local.get $h))
    (call $drop (local.get $h))
    (local.get $n))
  ;; poke, poke-list: not used in this scenario; the integers are ignored.
  (func (export "handle-compat:io/peer@0.1.0#poke") (param $raw i32) (result i64)
    (i64.const 0))
  (func (export "handle-compat:io/peer@0.1.0#poke-list") (param $ptr i32) (param $len i32) (result i64)
    (i64.extend_i32_u (local.get $len)))
  ;; hand-back: give the kept stream back.
  (func (export "handle-compat:io/peer@0.1.0#hand-back") (result i32)
    (global.get $kept))
  ;; lend-then-take: keep the owned stream, read 1 byte through the borrow,
  ;; drop the borrow.
  (func (export "handle-compat:io/peer@0.1.0#lend-then-take") (param $lent i32) (param $owned i32) (result i64)
    (local $n i64)
    (global.set $kept (local.get $owned))
    (local.set $n (call $read_len (local.get $lent) (i64.const 1)))
    (call $drop (local.get $lent))
    (local.get $n))
  ;; op 1: how many different streams b thinks it has been lent.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (i64.extend_i32_u (global.get $seen)))))
    unreachable)
)
