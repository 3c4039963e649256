;; The fuzzer's interpreter guest: four handle registers and one operation per
;; driver.run(op, arg), with arg = register | operand << 8 (see harness/fuzz/ops.py).
;; One source, two core modules: lines ending in ";; node" make the module every
;; component but the last of a chain runs (it imports peer and counters from the
;; next one), lines ending in ";; leaf" the last one (it defines counter and has no
;; peer to call: its peer calls are unreachable stubs the generator never emits).
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.subscribe" (func $subscribe (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]pollable.ready" (func $ready (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_in (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_out (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]pollable" (func $drop_poll (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $peer_take (param i32) (result i64))) ;; node
  (import "handle-compat:io/peer@0.1.0" "lend" (func $peer_lend (param i32) (result i64))) ;; node
  (import "handle-compat:io/peer@0.1.0" "poke" (func $peer_poke (param i32) (result i64))) ;; node
  (import "handle-compat:io/peer@0.1.0" "hand-back" (func $peer_hand_back (result i32))) ;; node
  (import "handle-compat:io/counters@0.1.0" "[constructor]counter" (func $ctr_new (param i64) (result i32))) ;; node
  (import "handle-compat:io/counters@0.1.0" "[method]counter.bump" (func $ctr_bump (param i32 i64) (result i64))) ;; node
  (import "handle-compat:io/counters@0.1.0" "consume" (func $ctr_consume (param i32) (result i64))) ;; node
  (import "handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $ctr_drop (param i32))) ;; node
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-new]counter" (func $new (param i32) (result i32))) ;; leaf
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-rep]counter" (func $rep (param i32) (result i32))) ;; leaf
  (import "[export]handle-compat:io/counters@0.1.0" "[resource-drop]counter" (func $ctr_drop (param i32))) ;; leaf
  (memory (export "memory") 1)
  ;; Registers at 256 + 4 * r; counter cells (leaf) from 2048; contents of streams at 1024.
  (global $heap (mut i32) (i32.const 4096))
  (global $cells (mut i32) (i32.const 2048))
  (global $inbox (mut i32) (i32.const 3))
  (global $keep (mut i32) (i32.const 0))
  (data (i32.const 1024) "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    ;; Each read allocates its bytes: wrap around well below the page's end.
    (if (i32.gt_u (global.get $heap) (i32.const 60000)) (then (global.set $heap (i32.const 4096))))
    (local.get $ptr))
  (func $reg (param $r i32) (result i32) (i32.load (i32.add (i32.const 256) (i32.shl (i32.and (local.get $r) (i32.const 3)) (i32.const 2)))))
  (func $set (param $r i32) (param $v i32) (i32.store (i32.add (i32.const 256) (i32.shl (i32.and (local.get $r) (i32.const 3)) (i32.const 2))) (local.get $v)))
  ;; One byte from input stream h: its value, -1 when ended, -2 when closed.
  (func $read1 (param $h i32) (result i64)
    (call $read (local.get $h) (i64.const 1) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))
      (else (i64.load8_u (i32.load (i32.const 68))))))
  ;; One byte into output stream h: bytes taken, or -1 / -2 as for reads.
  (func $write1 (param $h i32) (result i64)
    (call $write (local.get $h) (i32.const 1024) (i32.const 1) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 72))))
      (else (i64.load (i32.const 72)))))
  (func $peer_take (param i32) (result i64) unreachable) ;; leaf
  (func $peer_lend (param i32) (result i64) unreachable) ;; leaf
  (func $peer_poke (param i32) (result i64) unreachable) ;; leaf
  (func $peer_hand_back (result i32) unreachable) ;; leaf
  (func $ctr_new (param $start i64) (result i32) ;; leaf
    (local $cell i32) ;; leaf
    (local.set $cell (global.get $cells)) ;; leaf
    (global.set $cells (i32.add (global.get $cells) (i32.const 8))) ;; leaf
    (i64.store (local.get $cell) (local.get $start)) ;; leaf
    (call $new (local.get $cell))) ;; leaf
  (func $bump_rep (param $cell i32) (param $by i64) (result i64) ;; leaf
    (i64.store (local.get $cell) (i64.add (i64.load (local.get $cell)) (local.get $by))) ;; leaf
    (i64.load (local.get $cell))) ;; leaf
  (func $ctr_bump (param $h i32) (param $by i64) (result i64) ;; leaf
    (call $bump_rep (call $rep (local.get $h)) (local.get $by))) ;; leaf
  (func $ctr_consume (param $h i32) (result i64) ;; leaf
    (local $value i64) ;; leaf
    (local.set $value (i64.load (call $rep (local.get $h)))) ;; leaf
    (call $ctr_drop (local.get $h)) ;; leaf
    (local.get $value)) ;; leaf
  (func (export "handle-compat:io/counters@0.1.0#[constructor]counter") (param $start i64) (result i32) ;; leaf
    (call $ctr_new (local.get $start))) ;; leaf
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.bump") (param $cell i32) (param $by i64) (result i64) ;; leaf
    (call $bump_rep (local.get $cell) (local.get $by))) ;; leaf
  (func (export "handle-compat:io/counters@0.1.0#[method]counter.get") (param $cell i32) (result i64) ;; leaf
    (i64.load (local.get $cell))) ;; leaf
  (func (export "handle-compat:io/counters@0.1.0#consume") (param $h i32) (result i64) ;; leaf
    (call $ctr_consume (local.get $h))) ;; leaf
  (func (export "handle-compat:io/counters@0.1.0#[dtor]counter") (param $cell i32)) ;; leaf
  ;; peer: an own or a plain integer lands in the inbox register; a borrow is read
  ;; once and dropped, or kept in the inbox once op 17 set keep.
  (func (export "handle-compat:io/peer@0.1.0#take") (param $h i32) (result i64)
    (call $set (global.get $inbox) (local.get $h))
    (i64.const 0))
  (func (export "handle-compat:io/peer@0.1.0#lend") (param $h i32) (result i64)
    (local $n i64)
    (local.set $n (call $read1 (local.get $h)))
    (if (global.get $keep)
      (then (call $set (global.get $inbox) (local.get $h)))
      (else (call $drop_in (local.get $h))))
    (local.get $n))
  (func (export "handle-compat:io/peer@0.1.0#poke") (param $raw i32) (result i64)
    (call $set (global.get $inbox) (local.get $raw))
    (i64.const 0))
  (func (export "handle-compat:io/peer@0.1.0#poke-list") (param $ptr i32) (param $len i32) (result i64)
    (if (local.get $len) (then (call $set (global.get $inbox) (i32.load (local.get $ptr)))))
    (i64.const 0))
  (func (export "handle-compat:io/peer@0.1.0#hand-back") (result i32)
    (call $reg (global.get $inbox)))
  (func (export "handle-compat:io/peer@0.1.0#lend-then-take") (param $lent i32) (param $owned i32) (result i64)
    (local $n i64)
    (call $set (global.get $inbox) (local.get $owned))
    (local.set $n (call $read1 (local.get $lent)))
    (call $drop_in (local.get $lent))
    (local.get $n))
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $r i32)
    (local $x i64)
    (local.set $r (i32.wrap_i64 (i64.and (local.get $arg) (i64.const 3))))
    (local.set $x (i64.shr_s (local.get $arg) (i64.const 8)))
    (block $done
      (block $b22 (block $b21 (block $b20 (block $b19 (block $b18 (block $b17 (block $b16 (block $b15
      (block $b14 (block $b13 (block $b12 (block $b11 (block $b10 (block $b9 (block $b8 (block $b7
      (block $b6 (block $b5 (block $b4 (block $b3 (block $b2 (block $b1 (block $bad
        (br_table $bad $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b10 $b11 $b12 $b13 $b14 $b15 $b16 $b17 $b18 $b19 $b20
                  $b21 $b22 $bad (local.get $op)))
        unreachable)
        ;; 1 open-input: register := a stream over the 4 bytes at 1024 + 4 * operand
        (call $set (local.get $r) (call $open_input (i32.add (i32.const 1024) (i32.shl (i32.wrap_i64 (i64.and (local.get $x) (i64.const 15))) (i32.const 2))) (i32.const 4)))
        (br $done))
        ;; 2 open-output
        (call $set (local.get $r) (call $open_output))
        (br $done))
        ;; 3 read one byte
        (return (call $read1 (call $reg (local.get $r)))))
        ;; 4 write one byte
        (return (call $write1 (call $reg (local.get $r)))))
        ;; 5 drop as input stream
        (call $drop_in (call $reg (local.get $r)))
        (br $done))
        ;; 6 drop as output stream
        (call $drop_out (call $reg (local.get $r)))
        (br $done))
        ;; 7 subscribe to the input stream: register operand := the pollable
        (call $set (i32.wrap_i64 (local.get $x)) (call $subscribe (call $reg (local.get $r))))
        (br $done))
        ;; 8 pollable ready
        (return (i64.extend_i32_u (call $ready (call $reg (local.get $r))))))
        ;; 9 drop as pollable
        (call $drop_poll (call $reg (local.get $r)))
        (br $done))
        ;; 10 give to the peer as own
        (return (call $peer_take (call $reg (local.get $r)))))
        ;; 11 lend to the peer as borrow
        (return (call $peer_lend (call $reg (local.get $r)))))
        ;; 12 register := the own the peer hands back
        (call $set (local.get $r) (call $peer_hand_back))
        (br $done))
        ;; 13 send the register's value to the peer as a plain u32
        (return (call $peer_poke (call $reg (local.get $r)))))
        ;; 14 guess: register += operand
        (call $set (local.get $r) (i32.add (call $reg (local.get $r)) (i32.wrap_i64 (local.get $x))))
        (br $done))
        ;; 15 copy: register operand := register
        (call $set (i32.wrap_i64 (local.get $x)) (call $reg (local.get $r)))
        (br $done))
        ;; 16 show the register's value
        (return (i64.extend_i32_u (call $reg (local.get $r)))))
        ;; 17 keep: the peer export lend keeps its borrow (operand 1) or drops it (0)
        (global.set $keep (i32.wrap_i64 (local.get $x)))
        (br $done))
        ;; 18 inbox: where take, lend (keeping) and poke put what arrives
        (global.set $inbox (local.get $r))
        (br $done))
        ;; 19 register := a new counter starting at operand
        (call $set (local.get $r) (call $ctr_new (local.get $x)))
        (br $done))
        ;; 20 bump the counter by one
        (return (call $ctr_bump (call $reg (local.get $r)) (i64.const 1))))
        ;; 21 give the counter to consume
        (return (call $ctr_consume (call $reg (local.get $r)))))
        ;; 22 drop the counter
        (call $ctr_drop (call $reg (local.get $r))))
    (i64.const 0))
)
