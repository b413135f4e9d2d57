;; A sandboxed plug-in for Conduit (docs/sandbox.md): posts the execution context of the change to the service
;; endpoint whose id is the step's unsecure configuration, as Dataverse's sample custom Azure-aware plug-in does
;; with IServiceEndpointNotificationService.Execute.
;;
;; Upload it base64-encoded as a pluginassembly (isolationmode 2), add a plugintype whose typename is
;; "post_context" bound to that assembly, and register a step with that plug-in type and the endpoint's id as its
;; configuration. WasmKit reads this text format as it is; a .wasm binary works the same way.
(module
  ;; The host functions this plug-in uses (module "conduit"); importing anything else is refused.
  (import "conduit" "post" (func $post (param i32 i32) (result i32)))
  (import "conduit" "trace" (func $trace (param i32 i32)))
  (import "conduit" "fail" (func $fail (param i32 i32)))

  ;; The ABI: an exported memory and an allocator the host uses to hand over the context and the configuration.
  (memory (export "memory") 4)
  (global $next (mut i32) (i32.const 16384))
  (func (export "alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $p))

  (data (i32.const 0) "posting the context")
  (data (i32.const 64) "no service endpoint id in the step's configuration")

  ;; The plug-in type "post_context": (context JSON, its length, configuration, its length) -> 0 for success.
  (func (export "post_context") (param $context i32) (param $length i32)
                                (param $configuration i32) (param $configurationLength i32) (result i32)
    (if (i32.eqz (local.get $configurationLength))
      (then
        (call $fail (i32.const 64) (i32.const 50))
        (return (i32.const 1))))
    (call $trace (i32.const 0) (i32.const 19))
    ;; Returns the two-way answer's length (0 for queues); a failed post stops the run with the post's error,
    ;; and an asynchronous step's job waits and retries.
    (drop (call $post (local.get $configuration) (local.get $configurationLength)))
    (i32.const 0))
)
