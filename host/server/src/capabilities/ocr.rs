//! Text recognition for plugins with Tesseract's command-line program: the
//! image goes in on stdin, the words come back as TSV, within a size limit
//! and a time limit (the process is killed past it).

use std::process::Stdio;
use std::time::Duration;

use pa_runtime::Recognition;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Limits of one recognition.
#[derive(Clone, Debug)]
pub struct OcrLimits {
    /// Largest image accepted, in bytes.
    pub max_image_bytes: usize,
    /// Longest a recognition may take.
    pub timeout: Duration,
}

impl Default for OcrLimits {
    fn default() -> Self {
        OcrLimits {
            max_image_bytes: 10 << 20,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Recognises the text of `image` in `language` (`eng` when `None`).
pub async fn recognize(limits: &OcrLimits, image: &[u8], language: Option<&str>) -> Result<Recognition, String> {
    if image.len() > limits.max_image_bytes {
        return Err(format!(
            "the image is {} bytes; the limit is {} bytes",
            image.len(),
            limits.max_image_bytes
        ));
    }
    let language = language.unwrap_or("eng");
    let valid = !language.is_empty()
        && language.len() <= 64
        && language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+');
    if !valid {
        return Err(format!(
            "`{language}` is not a Tesseract language code (e.g. `eng`, `deu+eng`)"
        ));
    }
    let mut child = Command::new("tesseract")
        .args(["stdin", "stdout", "-l", language, "tsv"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the OCR engine (tesseract) cannot be started: {e}"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let run = async {
        // A write error means tesseract stopped reading; its exit says why.
        let _ = stdin.write_all(image).await;
        drop(stdin);
        child.wait_with_output().await
    };
    let output = tokio::time::timeout(limits.timeout, run)
        .await
        .map_err(|_| format!("text recognition took longer than {:?} and was stopped", limits.timeout))?
        .map_err(|e| format!("the OCR engine failed: {e}"))?;
    if !output.status.success() {
        let reason = String::from_utf8_lossy(&output.stderr);
        let reason = reason
            .lines()
            .find(|l| l.contains("Error") || l.contains("Failed") || l.contains("read"))
            .unwrap_or("unreadable image");
        return Err(format!("the image cannot be recognised: {}", reason.trim()));
    }
    Ok(parse_tsv(&String::from_utf8_lossy(&output.stdout)))
}

/// Text and mean confidence of Tesseract's TSV: one row per word (level 5)
/// with block, paragraph and line numbers that say where lines break.
fn parse_tsv(tsv: &str) -> Recognition {
    let mut text = String::new();
    let mut line_of_last_word = None;
    let (mut words, mut confidence_sum) = (0u32, 0f32);
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 12 || cols[0] != "5" || cols[11].trim().is_empty() {
            continue;
        }
        let line = (cols[2], cols[3], cols[4]);
        match line_of_last_word {
            Some(last) if last == line => text.push(' '),
            Some(_) => text.push('\n'),
            None => {}
        }
        line_of_last_word = Some(line);
        text.push_str(cols[11].trim());
        words += 1;
        confidence_sum += cols[10].parse::<f32>().unwrap_or(0.0).max(0.0);
    }
    Recognition {
        text,
        confidence: if words == 0 { 0.0 } else { confidence_sum / words as f32 },
        words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_become_lines_of_text() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t96.5\tInvoice\n\
                   5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t93.5\tA-17\n\
                   5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t90\tTotal:\n\
                   5\t1\t1\t1\t2\t2\t0\t0\t10\t10\t-1\t \n";
        let r = parse_tsv(tsv);
        assert_eq!(r.text, "Invoice A-17\nTotal:");
        assert_eq!(r.words, 3);
        assert!((r.confidence - 93.333).abs() < 0.01, "{}", r.confidence);
    }

    #[tokio::test]
    async fn images_over_the_limit_or_bad_languages_are_refused_before_running() {
        let limits = OcrLimits {
            max_image_bytes: 4,
            timeout: Duration::from_secs(1),
        };
        let err = recognize(&limits, b"12345", None).await.unwrap_err();
        assert!(err.contains("limit is 4 bytes"), "{err}");
        let err = recognize(&OcrLimits::default(), b"x", Some("eng; rm -rf"))
            .await
            .unwrap_err();
        assert!(err.contains("not a Tesseract language code"), "{err}");
    }
}
