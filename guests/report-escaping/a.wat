;; Reports observations whose tags are markup: a report must show them as text.
;; The tag of `probe.emit` is a string the guest controls, so whatever renders
;; traces has to treat it as untrusted.
(module
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "<script>alert(1)</script>")
  (data (i32.const 64) "<img src=x onerror=alert(1)>")
  (data (i32.const 112) "\"><svg onload=alert(1)>")
  (data (i32.const 160) "</td></tr></table><b id=\"injected\">injected</b>")
  (data (i32.const 224) "&lt;already-escaped&gt;")
  ;; op 1: emit a script tag, an image with an error handler and an attribute
  ;; break-out; returns how many tags it emitted.
  ;; op 2: emit a table break-out and text that already looks escaped.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (call $emit (i32.const 16) (i32.const 25) (i64.const 1))
        (call $emit (i32.const 64) (i32.const 28) (i64.const 2))
        (call $emit (i32.const 112) (i32.const 23) (i64.const 3))
        (return (i64.const 3))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $emit (i32.const 160) (i32.const 47) (i64.const 4))
        (call $emit (i32.const 224) (i32.const 23) (i64.const 5))
        (return (i64.const 2))))
    unreachable)
)
