//! Test helpers shared by the integration tests.

#![allow(dead_code)] // each test file uses some of them

/// The default clinical model as written in the repository.
pub const DEFAULT_MODEL: &str = include_str!("../../model/default.toml");

/// The cohort keys of the default model a hypertrophy study takes.
const HYPERTROPHY_COHORT: [&str; 5] = [
    "age_years",
    "female_share",
    "bsa_m2",
    "standard_liver_volume",
    "tlv_deviation",
];

/// A complete scenario: `scenario` written out over the default model's text, line by line, so
/// that every model number sits in one file as the user could write it (a scenario that states
/// every number is as valid as one that states only its changes). Tests that mutate or edit model
/// numbers work on this text, whose errors are located in it.
pub fn complete(scenario: &str) -> String {
    let hypertrophy = !scenario.contains("study = \"pathway\"");
    let (preamble, theirs) = sections(scenario);
    let (_, model) = sections(DEFAULT_MODEL);
    let named = |procedure: &str| {
        [
            format!("\"{procedure}\""),
            format!("\"{procedure}_"),
            format!("_{procedure}\""),
            format!("[procedures.{procedure}]"),
        ]
        .iter()
        .any(|p| scenario.contains(p.as_str()))
    };
    let mut out: Vec<(String, Vec<String>)> = model
        .into_iter()
        .filter(|(header, _)| match header.strip_prefix("[procedures.") {
            Some(rest) => named(rest.trim_end_matches(']')),
            None if hypertrophy => matches!(
                header.as_str(),
                "[cohort]" | "[model.safe_remnant]" | "[model.regeneration]" | "[model.waiting]"
            ),
            None => header != "[model.waiting]",
        })
        .map(|(header, lines)| {
            let lines = if hypertrophy && header == "[cohort]" {
                lines
                    .into_iter()
                    .filter(|l| key(l).is_none_or(|k| HYPERTROPHY_COHORT.contains(&k)))
                    .collect()
            } else {
                lines
            };
            (header, lines)
        })
        .collect();
    let mut replaced_arrays: Vec<String> = Vec::new();
    for (header, lines) in theirs {
        if header.starts_with("[[") {
            if !replaced_arrays.contains(&header) {
                out.retain(|(h, _)| h != &header);
                replaced_arrays.push(header.clone());
            }
            out.push((header, lines));
            continue;
        }
        match out.iter_mut().find(|(h, _)| h == &header) {
            None => out.push((header, lines)),
            Some((_, mine)) => {
                for line in lines {
                    match key(&line).and_then(|k| mine.iter().position(|m| key(m) == Some(k))) {
                        Some(i) => mine[i] = line,
                        None if key(&line).is_some() => mine.insert(0, line),
                        None => {}
                    }
                }
            }
        }
    }
    let mut text = preamble.join("\n");
    for (header, lines) in out {
        text.push_str(&format!("\n\n{header}\n"));
        let body: Vec<&String> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
        for l in body {
            text.push_str(l);
            text.push('\n');
        }
    }
    text
}

/// The key of a `key = value` line.
fn key(line: &str) -> Option<&str> {
    let (k, _) = line.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && !k.starts_with('#') && !k.contains(' ')).then_some(k)
}

/// The text before the first table, then every table with its lines (values spanning lines
/// stay with their table).
fn sections(text: &str) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut preamble = Vec::new();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && !t.starts_with("[[") && t.ends_with(']') && !t.contains('=')
            || t.starts_with("[[") && t.ends_with("]]")
        {
            out.push((t.to_owned(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line.to_owned());
        } else {
            preamble.push(line.to_owned());
        }
    }
    (preamble, out)
}

/// Every file of a result folder by name, sorted, but the manifest, which differs by design
/// (it records the command line, times and shards).
pub fn result_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "manifest.json")
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
