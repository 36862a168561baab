//! libcodecprep from C, C++ and Python, as a user gets it: installed by meson into a scratch
//! prefix, found through pkg-config, programs compiled with `-std=c11 -Wall -Wextra -Werror`
//! (C++: `-std=c++17`) and run under valgrind (no leak, no invalid access). Also: the
//! installed files, the header as C and C++, the static archive's symbols and a C++ program
//! linking it with the system's libavcodec, the examples' results against the `codecprep`
//! and `codec-video-prep` commands, and `meson test`.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use ndarray::{Array3, Array4, Axis};
use serde_json::Value;
use support::{Output, cli_bin, env, repo, run, valgrind};

/// Names of the functions the header declares (`codecprep_xxx(` at the start of a word).
fn header_functions() -> BTreeSet<String> {
    let header = fs::read_to_string(repo().join("include/codecprep.h")).unwrap();
    header
        .match_indices("codecprep_")
        .filter(|&(at, _)| !header[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        .filter_map(|(at, _)| {
            let name: String = header[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            header[at + name.len()..].starts_with('(').then_some(name)
        })
        .collect()
}

/// Defined global symbols of an object, archive or (with `-D`) shared library.
fn defined_globals(path: &Path, dynamic: bool) -> BTreeSet<String> {
    let mut args = vec!["--defined-only", "--extern-only"];
    if dynamic {
        args.push("-D");
    }
    let path = path.display().to_string();
    args.push(&path);
    run("nm", &args)
        .ok()
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect()
}

#[test]
fn installed_files_soname_and_version() {
    let env = env();
    let so = env.libdir.join("libcodecprep.so");
    assert_eq!(
        fs::read_link(&so).unwrap(),
        Path::new("libcodecprep.so.0"),
        "libcodecprep.so must link to the SONAME file"
    );
    let dynamic = run(
        "readelf",
        &[
            "-d",
            &env.libdir.join("libcodecprep.so.0").display().to_string(),
        ],
    )
    .ok();
    assert!(
        dynamic
            .stdout
            .contains("Library soname: [libcodecprep.so.0]"),
        "{}",
        dynamic.stdout
    );
    assert!(env.prefix.join("include/codecprep.h").is_file());
    let version = env.pkg_config(&["--modversion"]);
    assert_eq!(version, [env!("CARGO_PKG_VERSION")]);
    let meson = fs::read_to_string(repo().join("meson.build")).unwrap();
    assert!(
        meson.contains(&format!("version: '{}'", env!("CARGO_PKG_VERSION"))),
        "meson.build's project version differs from the crate version"
    );
    let mut libs = env.pkg_config(&["--libs"]);
    libs.sort();
    assert_eq!(
        libs,
        [
            format!("-L{}", env.libdir.display()),
            "-lcodecprep".to_owned()
        ]
    );
}

#[test]
fn only_codecprep_symbols_are_exported() {
    let env = env();
    let functions = header_functions();
    assert!(functions.len() >= 30, "{functions:?}");
    let shared = defined_globals(&env.libdir.join("libcodecprep.so.0"), true);
    assert_eq!(
        shared, functions,
        "libcodecprep.so exports exactly the header's functions"
    );
    let archive = defined_globals(&env.libdir.join("libcodecprep.a"), false);
    let foreign: Vec<&String> = archive
        .iter()
        .filter(|s| !s.starts_with("codecprep_"))
        .collect();
    assert!(
        foreign.is_empty(),
        "libcodecprep.a defines foreign globals: {foreign:?}"
    );
    for prefix in ["av", "sws", "ff_", "swr", "rust"] {
        assert!(
            !archive.iter().any(|s| s.starts_with(prefix)),
            "{prefix}* in libcodecprep.a"
        );
    }
    assert_eq!(
        archive, functions,
        "libcodecprep.a defines exactly the header's functions"
    );
}

#[test]
fn header_compiles_as_c_and_cpp() {
    let header = repo().join("include/codecprep.h").display().to_string();
    let dialects = [
        ("cc", "c", "-std=c99"),
        ("cc", "c", "-std=c11"),
        ("g++", "c++", "-std=c++11"),
        ("g++", "c++", "-std=c++17"),
    ];
    for (compiler, language, std) in dialects {
        let flags = [
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
            "-x",
        ];
        let mut args = vec![std];
        args.extend(flags);
        args.extend([language, &header]);
        run(compiler, &args).ok();
    }
}

#[test]
fn bad_inputs_fail_with_a_message_naming_the_file() {
    let env = env();
    let exe = env.compile("test_bad_inputs", "tests/c/test_bad_inputs.c");
    let scratch = env.scratch("bad_inputs");
    let case = |status: &str, name: &str| format!("{status}={}", env.fixture(name).display());
    let args = [
        scratch.display().to_string(),
        case("NOT_FOUND", "missing.mp4"),
        case("NOT_MEDIA", "empty.mp4"),
        case("NOT_MEDIA", "text.mp4"),
        case("NOT_MEDIA", "random.mp4"),
        case("NO_VIDEO", "audio_only.m4a"),
        case("UNSUPPORTED_CODEC", "mpeg4.mp4"),
    ];
    let out = valgrind(&exe, &args).ok();
    assert!(out.stdout.contains("test_bad_inputs: ok"), "{}", out.stdout);
}

#[test]
fn every_function_rejects_null_and_bad_arguments() {
    let env = env();
    let exe = env.compile("test_null_args", "tests/c/test_null_args.c");
    let scratch = env.scratch("null_args");
    valgrind(&exe, &[env.fixture("h264.mp4"), scratch]).ok();
}

#[test]
fn eight_threads_with_their_own_readers_agree() {
    let env = env();
    let exe = env.compile("test_threads", "tests/c/test_threads.c");
    let out = valgrind(&exe, &[env.fixture("h264.mp4")]).ok();
    assert!(
        out.stdout.contains("8 threads: 60 frames each"),
        "{}",
        out.stdout
    );
}

#[test]
fn static_archive_links_next_to_the_system_libavcodec() {
    let env = env();
    let exe = env.work.join("bin/test_static_link");
    fs::create_dir_all(exe.parent().unwrap()).unwrap();
    let mut args: Vec<String> = vec![
        "-std=c++17".into(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
        "-pedantic".into(),
    ];
    args.extend(env.pkg_config(&["--cflags"]));
    args.push(
        repo()
            .join("tests/c/test_static_link.cpp")
            .display()
            .to_string(),
    );
    args.extend(["-o".into(), exe.display().to_string()]);
    // The archive itself, then what it needs (its Libs.private), then the system FFmpeg.
    args.push(env.libdir.join("libcodecprep.a").display().to_string());
    args.extend(
        env.pkg_config(&["--static", "--libs"])
            .into_iter()
            .filter(|a| a != "-lcodecprep" && !a.starts_with("-L")),
    );
    let avcodec = run("pkg-config", &["--cflags", "--libs", "libavcodec"]).ok();
    assert!(
        avcodec.code == Some(0),
        "libavcodec-dev is missing (scripts/apt-packages.txt)"
    );
    args.extend(avcodec.stdout.split_whitespace().map(str::to_owned));
    run("g++", &args).ok();
    let needed = run("readelf", &["-d", &exe.display().to_string()])
        .ok()
        .stdout;
    assert!(
        !needed.contains("libcodecprep"),
        "linked the shared library:\n{needed}"
    );
    let out = valgrind(&exe, &[env.fixture("h264.mp4")]).ok();
    assert!(
        out.stdout.contains("test_static_link: ok"),
        "{}",
        out.stdout
    );
}

/// `codecprep scan VIDEO` (maps only, or pixels with `extra`) into a fresh directory.
fn codecprep_scan(dir: &Path, video: &Path, extra: &[&str]) -> (Vec<Value>, Array3<i32>) {
    let out_dir = dir.join("scan");
    let mut args = vec![
        "scan".to_owned(),
        video.display().to_string(),
        "--out".to_owned(),
        out_dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(cli_bin("codecprep"), &args).ok();
    let frames: Value =
        serde_json::from_slice(&fs::read(out_dir.join("frames.json")).unwrap()).unwrap();
    let cells: Array3<i32> = ndarray_npy::read_npy(out_dir.join("cells.npy")).unwrap();
    (frames.as_array().unwrap().clone(), cells)
}

/// The per-frame line of examples/c/bitcost_stats.c computed from `codecprep scan`'s outputs.
fn expected_line(frame: &Value, cells: &ndarray::ArrayView2<i32>) -> String {
    let (mut best, mut hot, mut sum) = (i32::MIN, (0, 0), 0i64);
    for ((r, c), &v) in cells.indexed_iter() {
        sum += i64::from(v);
        if v > best {
            best = v;
            hot = (r, c);
        }
    }
    format!(
        "frame {} {} total_bits {} data_bits {} segments {} max_block {best} mean_block {:.3} \
         hot {},{}",
        frame["index"],
        frame["pict_type"].as_str().unwrap(),
        frame["total_bits"],
        frame["data_bits"],
        frame["segments"],
        sum as f64 / cells.len() as f64,
        hot.0,
        hot.1
    )
}

fn frame_lines(out: &Output) -> Vec<String> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("frame "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn c_example_statistics_equal_codecprep_scan() {
    let env = env();
    let exe = env.compile("bitcost_stats", "examples/c/bitcost_stats.c");
    for video in ["h264.mp4", "hevc.mp4"] {
        let scratch = env.scratch(&format!("stats-{video}"));
        let video = env.fixture(video);
        let pgm = scratch.join("hottest.pgm");
        let out = valgrind(&exe, &[video.as_os_str(), pgm.as_os_str()]).ok();
        let (frames, cells) = codecprep_scan(&scratch, &video, &[]);
        let expected: Vec<String> = frames
            .iter()
            .zip(cells.axis_iter(Axis(0)))
            .map(|(frame, grid)| expected_line(frame, &grid))
            .collect();
        assert_eq!(frame_lines(&out), expected, "{}", video.display());

        // The heat map: the costliest frame's sub-grid, its hottest cell white.
        let hottest = frames
            .iter()
            .enumerate()
            .max_by_key(|(i, f)| (f["total_bits"].as_i64().unwrap(), std::cmp::Reverse(*i)))
            .map(|(_, f)| f)
            .unwrap();
        let grid = &hottest["grid"];
        let header = format!("P5\n{} {}\n255\n", grid["sub_cols"], grid["sub_rows"]);
        let bytes = fs::read(&pgm).unwrap();
        assert!(
            bytes.starts_with(header.as_bytes()),
            "PGM header of {}",
            pgm.display()
        );
        let pixels = &bytes[header.len()..];
        let area = grid["sub_cols"].as_u64().unwrap() * grid["sub_rows"].as_u64().unwrap();
        assert_eq!(pixels.len() as u64, area);
        assert_eq!(pixels.iter().max(), Some(&255));
        assert!(
            out.stdout
                .contains(&format!("hottest frame {} ", hottest["index"]))
        );

        // The Python ctypes example prints the same lines through the same library.
        let python = run(
            "python3",
            &[
                repo().join("examples/python/ctypes_scan.py").as_os_str(),
                video.as_os_str(),
                "--lib".as_ref(),
                env.libdir.join("libcodecprep.so.0").as_os_str(),
            ],
        )
        .ok();
        assert_eq!(frame_lines(&python), expected, "ctypes_scan.py");
    }
}

#[test]
fn cpp_batch_loader_pixels_equal_codecprep_scan() {
    let env = env();
    let exe = env.compile("batch_loader", "examples/c/batch_loader.cpp");
    let scratch = env.scratch("batch_loader");
    let video = env.fixture("h264.mp4");
    let raw = scratch.join("batch.raw");
    let out = valgrind(
        &exe,
        &[
            video.as_os_str(),
            "64".as_ref(),
            "48".as_ref(),
            "5".as_ref(),
            raw.as_os_str(),
        ],
    )
    .ok();
    let (frames, _) = codecprep_scan(&scratch, &video, &["--pixels", "--size", "64x48", "--rgb"]);
    let pixels: Array4<u8> = ndarray_npy::read_npy(scratch.join("scan/pixels.npy")).unwrap();
    // The five costliest frames (ties: the earlier), in display order.
    let mut by_cost: Vec<(i64, usize)> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (f["total_bits"].as_i64().unwrap(), i))
        .collect();
    by_cost.sort_by_key(|&(bits, i)| (std::cmp::Reverse(bits), i));
    let mut ids: Vec<usize> = by_cost[..5].iter().map(|&(_, i)| i).collect();
    ids.sort_unstable();
    let shown: Vec<usize> = frame_lines(&out)
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(shown, ids);
    let mut expected = Vec::new();
    for &id in &ids {
        expected.extend(pixels.index_axis(Axis(0), id).iter().copied());
    }
    assert!(
        fs::read(&raw).unwrap() == expected,
        "batch pixels differ from codecprep scan --pixels"
    );
}

/// meta.json without what differs between two runs of the same job: timings and the output
/// directory.
fn comparable_meta(dir: &Path) -> Value {
    let mut meta: Value =
        serde_json::from_slice(&fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let object = meta.as_object_mut().unwrap();
    for key in [
        "timing_sec",
        "group_processing_timing_sec",
        "timings",
        "out_dir",
    ] {
        object.remove(key);
    }
    object["config"].as_object_mut().unwrap().remove("out_dir");
    meta
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn preinfer_through_c_writes_what_codec_video_prep_writes() {
    let env = env();
    let exe = env.compile("test_preinfer", "tests/c/test_preinfer.c");
    let video = env.fixture("h264.mp4").display().to_string();
    let settings: [&[&str]; 2] = [
        &[],
        &[
            "--canvas_format",
            "png",
            "--grouping_mode",
            "fixed",
            "--group_size",
            "10",
            "--images_per_group",
            "2",
        ],
    ];
    for (i, settings) in settings.iter().enumerate() {
        let scratch = env.scratch(&format!("preinfer-{i}"));
        let c_dir = scratch.join("c").display().to_string();
        let cli_dir = scratch.join("cli").display().to_string();
        let mut c_args = vec![
            "--video",
            &video,
            "--out_dir",
            &c_dir,
            "--cancel_at",
            "score",
        ];
        c_args.extend_from_slice(settings);
        let out = valgrind(&exe, &c_args).ok();
        assert!(out.stdout.contains("test_preinfer: ok"), "{}", out.stdout);
        let mut cli_args = vec!["--video", &video, "--out_dir", &cli_dir];
        cli_args.extend_from_slice(settings);
        run(cli_bin("codec-video-prep"), &cli_args).ok();

        let (c_dir, cli_dir) = (Path::new(&c_dir), Path::new(&cli_dir));
        let names = listing(cli_dir);
        assert_eq!(listing(c_dir), names, "{settings:?}");
        for name in names.iter().filter(|n| *n != "meta.json") {
            assert!(
                fs::read(c_dir.join(name)).unwrap() == fs::read(cli_dir.join(name)).unwrap(),
                "{name} differs between C and codec-video-prep ({settings:?})"
            );
        }
        assert_eq!(
            comparable_meta(c_dir),
            comparable_meta(cli_dir),
            "{settings:?}"
        );
    }
}

#[test]
fn meson_test_passes() {
    let env = env();
    let build = env.meson_build.display().to_string();
    let out = run(
        "meson",
        &["test", "-C", &build, "--no-rebuild", "--print-errorlogs"],
    );
    assert_eq!(
        out.code,
        Some(0),
        "meson test failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
}
