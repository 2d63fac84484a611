{
  "targets": [
    {
      "target_name": "tcbuild_native",
      "sources": [
        "native/addon.cc",
        "native/archive_decompress.cc",
        "native/fs_ops.cc",
        "native/capabilities.cc",
        "native/close_fds.cc",
        "native/console.cc",
        "native/console_receiver.cc",
        "native/device_filter.cc",
        "native/exit_watcher.cc",
        "native/init.cc",
        "native/loopback.cc",
        "native/mount_options.cc",
        "native/network_namespace.cc",
        "native/oom_score.cc",
        "native/path_in_root.cc",
        "native/protected_paths.cc",
        "native/report.cc",
        "native/rootfs.cc",
        "native/seccomp.cc",
        "native/spawn.cc",
        "native/spec_reader.cc",
        "native/workload.cc",
        "native/zstd_stream.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
