//! Build step: the browser bundles of the offline GraphiQL playground (DESIGN §4, §13).
//!
//! The repository holds only code written for this project, so GraphiQL's bundles come from
//! their npm packages at build time and are embedded into the binary (`src/http/playground.rs`
//! serves them under `/graphql/assets/`). No crate on crates.io ships them.
//!
//! - Source: `npm pack` of the pinned packages below (graphiql 4.x is the newest line with a
//!   UMD browser bundle; React 18 is the newest with UMD builds). npm checks each tarball
//!   against the registry's checksum, and this script checks that checksum against the pinned
//!   one, so a build embeds exactly these bytes. npm's cache makes later builds offline.
//! - Or, for builds without npm or network: `NEOFORGE_GRAPHIQL_ASSETS=/some/dir` names a
//!   folder holding the files of [`FILES`] (by their embedded names), copied as they are.
//! - Without either, the build still succeeds: the binary then serves a page at `/graphql`
//!   that says how to get the playground, and prints a cargo warning. After installing
//!   Node.js/npm, `touch build.rs && cargo build` embeds the bundles.
//!
//! The fetched files land in `$OUT_DIR/graphiql/` with a stamp; a rebuild whose stamp matches
//! reuses them without calling npm.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Package {
    spec: &'static str,
    tarball: &'static str,
    integrity: &'static str,
}

const PACKAGES: &[Package] = &[
    Package {
        spec: "graphiql@4.1.2",
        tarball: "graphiql-4.1.2.tgz",
        integrity: "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
    },
    Package {
        spec: "react@18.3.1",
        tarball: "react-18.3.1.tgz",
        integrity: "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
    },
    Package {
        spec: "react-dom@18.3.1",
        tarball: "react-dom-18.3.1.tgz",
        integrity: "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
    },
];

/// (tarball, path inside it, embedded name). `src/http/playground.rs` includes each by name.
const FILES: &[(&str, &str, &str)] = &[
    (
        "graphiql-4.1.2.tgz",
        "package/graphiql.min.js",
        "graphiql.min.js",
    ),
    (
        "graphiql-4.1.2.tgz",
        "package/graphiql.min.css",
        "graphiql.min.css",
    ),
    ("graphiql-4.1.2.tgz", "package/LICENSE", "LICENSE.graphiql"),
    (
        "react-18.3.1.tgz",
        "package/umd/react.production.min.js",
        "react.production.min.js",
    ),
    ("react-18.3.1.tgz", "package/LICENSE", "LICENSE.react"),
    (
        "react-dom-18.3.1.tgz",
        "package/umd/react-dom.production.min.js",
        "react-dom.production.min.js",
    ),
    (
        "react-dom-18.3.1.tgz",
        "package/LICENSE",
        "LICENSE.react-dom",
    ),
];

const ASSETS_ENV: &str = "NEOFORGE_GRAPHIQL_ASSETS";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={ASSETS_ENV}");

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("graphiql");
    fs::create_dir_all(&out).expect("create $OUT_DIR/graphiql");

    let result = match env::var_os(ASSETS_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => copy_from(Path::new(&dir), &out),
        None => fetch_with_npm(&out),
    };
    match result {
        Ok(()) => println!("cargo:rustc-env=NEOFORGE_GRAPHIQL_MISSING="),
        Err(reason) => {
            // Empty files keep `include_bytes!` compiling; the server then explains instead.
            for (_, _, name) in FILES {
                fs::write(out.join(name), b"").expect("write placeholder");
            }
            let _ = fs::remove_file(out.join("STAMP"));
            let _ = fs::remove_dir_all(out.join("download"));
            let reason = reason.replace(['\n', '\r'], " ");
            println!(
                "cargo:warning=GraphiQL playground not embedded: {reason}. Install Node.js/npm \
                 and run `touch build.rs && cargo build`, or set {ASSETS_ENV}."
            );
            println!("cargo:rustc-env=NEOFORGE_GRAPHIQL_MISSING={reason}");
        }
    }
}

fn stamp() -> String {
    PACKAGES
        .iter()
        .map(|p| format!("{} {}\n", p.spec, p.integrity))
        .collect()
}

fn complete(dir: &Path) -> bool {
    FILES
        .iter()
        .all(|(_, _, name)| fs::metadata(dir.join(name)).is_ok_and(|m| m.is_file() && m.len() > 0))
}

fn copy_from(dir: &Path, out: &Path) -> Result<(), String> {
    for (_, _, name) in FILES {
        let from = dir.join(name);
        println!("cargo:rerun-if-changed={}", from.display());
        fs::copy(&from, out.join(name))
            .map_err(|e| format!("{ASSETS_ENV}: cannot copy {}: {e}", from.display()))?;
    }
    if complete(out) {
        Ok(())
    } else {
        Err(format!("{ASSETS_ENV}: some files are empty"))
    }
}

fn fetch_with_npm(out: &Path) -> Result<(), String> {
    let stamp_path = out.join("STAMP");
    if complete(out) && fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp()) {
        return Ok(());
    }

    let work = out.join("download");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let output = Command::new(npm)
        .current_dir(&work)
        .args([
            "pack",
            "--json",
            "--prefer-offline",
            "--ignore-scripts",
            "--loglevel=error",
            "--fetch-retries=1",
            "--pack-destination",
            ".",
        ])
        .args(PACKAGES.iter().map(|p| p.spec))
        .output()
        .map_err(|e| format!("cannot run `{npm}` ({e})"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = stderr.trim();
        return Err(format!(
            "`npm pack` failed ({}): {}",
            output.status,
            stderr.chars().take(400).collect::<String>()
        ));
    }
    let report = String::from_utf8_lossy(&output.stdout);
    for package in PACKAGES {
        if !report.contains(package.integrity) {
            return Err(format!(
                "{} does not match its pinned checksum {}",
                package.spec, package.integrity
            ));
        }
        if !work.join(package.tarball).is_file() {
            return Err(format!("npm did not produce {}", package.tarball));
        }
    }

    for package in PACKAGES {
        let members: Vec<&str> = FILES
            .iter()
            .filter(|(t, _, _)| *t == package.tarball)
            .map(|(_, member, _)| *member)
            .collect();
        let dest = work.join(package.tarball.trim_end_matches(".tgz"));
        fs::create_dir_all(&dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(work.join(package.tarball))
            .arg("-C")
            .arg(&dest)
            .args(&members)
            .status()
            .map_err(|e| format!("cannot run `tar` ({e})"))?;
        if !status.success() {
            return Err(format!("`tar` could not unpack {}", package.tarball));
        }
        for (_, member, name) in FILES.iter().filter(|(t, _, _)| *t == package.tarball) {
            fs::copy(dest.join(member), out.join(name))
                .map_err(|e| format!("{} lacks {member}: {e}", package.tarball))?;
        }
    }
    let _ = fs::remove_dir_all(&work);
    if !complete(out) {
        return Err("the unpacked bundles are empty".into());
    }
    fs::write(&stamp_path, stamp()).map_err(|e| format!("cannot write the stamp: {e}"))
}
