//! Entry points for the fuzz targets in `fuzz/` and for the test suite's smoke run of them:
//! each feeds untrusted bytes to a parser and checks what must hold for any input.

/// `WWW-Authenticate` headers come from any server hoist talks to.
pub fn challenge(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        for challenge in crate::registry::challenge::parse(text) {
            assert!(!challenge.scheme.is_empty());
            assert_eq!(challenge.scheme, challenge.scheme.to_ascii_lowercase());
        }
    }
}

/// A token service's answer: whatever `expires_in` says, the lifetime stays within bounds and
/// adding it to the clock cannot overflow (that panic once ended pulls with exit 101).
pub fn token_response(data: &[u8]) {
    use crate::registry::token::{parse_lifetime, MAX_LIFETIME};
    if let Some(lifetime) = parse_lifetime(data) {
        assert!(lifetime >= std::time::Duration::from_secs(1) && lifetime <= MAX_LIFETIME);
        assert!(std::time::Instant::now().checked_add(lifetime).is_some());
    }
}

/// `Retry-After` values: any header gives no wait or one of at most a minute.
pub fn retry_after(data: &[u8]) {
    use crate::registry::error::{parse_retry_after, MAX_RETRY_AFTER};
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(wait) = parse_retry_after(text, std::time::SystemTime::now()) {
            assert!(wait <= MAX_RETRY_AFTER);
        }
    }
}

/// References come from users and scripts; a parsed one must print back as a parsable one.
pub fn reference(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(reference) = crate::reference::Reference::parse(text) {
            let canonical = reference.to_string();
            let again =
                crate::reference::Reference::parse(&canonical).expect("canonical form parses");
            assert_eq!(again.to_string(), canonical);
        }
    }
}

/// config.json may be anything a user or another tool wrote; saving what loaded must load again.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = crate::config::DockerConfig::parse(text, "fuzz input") {
            if let Ok(bytes) = config.to_docker_bytes() {
                let again = crate::config::DockerConfig::parse(&bytes, "saved config")
                    .expect("saved config parses");
                assert_eq!(again.to_docker_bytes().expect("saves again"), bytes);
            }
        }
    }
}

/// The fuzz targets in smoke mode: seeds and a bounded number of seeded random mutations of
/// them, so every `cargo test` exercises the parsers on hostile input.
#[cfg(test)]
mod smoke {
    use rand::{Rng, SeedableRng};

    const ROUNDS: usize = 20_000;

    fn mutate(rng: &mut rand::rngs::StdRng, seed: &[u8]) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..rng.gen_range(1..8) {
            let at = if data.is_empty() {
                0
            } else {
                rng.gen_range(0..data.len())
            };
            match rng.gen_range(0..4) {
                0 if !data.is_empty() => data[at] = rng.gen(),
                1 => {
                    let specials = b"\"\\:/@,= {}[]\x00\xff";
                    data.insert(at, specials[rng.gen_range(0..specials.len())]);
                }
                2 if !data.is_empty() => {
                    data.remove(at);
                }
                _ => {
                    let end = rng.gen_range(at..=data.len());
                    let copy = data[at..end].to_vec();
                    data.splice(at..at, copy);
                }
            }
        }
        data
    }

    fn run(target: fn(&[u8]), seeds: &[&str]) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x4015);
        for seed in seeds {
            target(seed.as_bytes());
        }
        for _ in 0..ROUNDS {
            let seed = seeds[rng.gen_range(0..seeds.len())].as_bytes();
            target(&mutate(&mut rng, seed));
        }
    }

    #[test]
    fn challenge_parser() {
        run(
            super::challenge,
            &[
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a:pull""#,
                r#"Basic realm="Registry Realm""#,
                r#"Bearer realm="r",error="insufficient_scope",error_description="a \"b\"""#,
            ],
        );
    }

    #[test]
    fn reference_parser() {
        run(super::reference, &[
            "alpine",
            "127.0.0.1:5000/a/b:v1",
            "reg.io/app:1.0@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "localhost/x__y.z-w",
        ]);
    }

    /// Every crash a fuzzer found, kept under `fuzz/regressions/TARGET/`, runs again here. The
    /// first: a config number with more digits than an f64 holds was saved as one value and,
    /// parsed again, as another, until serde_json parsed floats exactly (`float_roundtrip`).
    #[test]
    fn regressions_found_by_fuzzing() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        type Target = fn(&[u8]);
        let targets: [(&str, Target); 5] = [
            ("challenge", super::challenge),
            ("reference", super::reference),
            ("config", super::config),
            ("token_response", super::token_response),
            ("retry_after", super::retry_after),
        ];
        let mut ran = 0;
        for (name, target) in targets {
            let Ok(entries) = std::fs::read_dir(root.join(name)) else {
                continue;
            };
            for entry in entries {
                target(&std::fs::read(entry.unwrap().path()).unwrap());
                ran += 1;
            }
        }
        assert!(ran > 0, "no regression inputs under {}", root.display());
    }

    #[test]
    fn token_response_parser() {
        run(
            super::token_response,
            &[
                r#"{"token":"t","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}"#,
                r#"{"access_token":"a","expires_in":9223372036854775807,"refresh_token":"r"}"#,
                r#"{"token":"t","expires_in":1e19}"#,
                r#"{"token":"t","expires_in":-0.5}"#,
            ],
        );
    }

    #[test]
    fn retry_after_parser() {
        run(
            super::retry_after,
            &[
                "120",
                "Wed, 21 Oct 2015 07:28:00 GMT",
                "Fri, 31 Dec 9999 23:59:59 GMT",
                "18446744073709551616",
            ],
        );
    }

    #[test]
    fn config_parser() {
        run(
            super::config,
            &[
                r#"{"auths":{"r.io":{"auth":"dTpw","email":"e"}},"credsStore":"pass","psFormat":"<&>"}"#,
                r#"{"r.io":{"auth":"dTpw"}}"#,
                r#"{"auths":{"https://index.docker.io/v1/":{}},"proxies":{"default":{"httpProxy":"h"}},"x":[1,{"y":null}]}"#,
            ],
        );
    }
}
