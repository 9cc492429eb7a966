//! A real client: headless Neovim (Debian's 0.7 package, `make neovim`) starts
//! `ligature lsp`, attaches it to a file with a type error and must receive the
//! diagnostic. Without `nvim` the test fails, unless `LIGATURE_SKIP_NVIM=1`.

#![allow(clippy::print_stderr)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Neovim 0.7's API: `vim.lsp.start_client` and `vim.lsp.buf_attach_client` (0.7 has no
/// `vim.lsp.start`). The diagnostics of the buffer are written to `$OUT`, one per line.
const SCRIPT: &str = r#"
local client_id = vim.lsp.start_client({
  name = "ligature",
  cmd = { os.getenv("LIGATURE_BIN"), "lsp" },
  root_dir = os.getenv("ROOT"),
})
vim.cmd("edit " .. os.getenv("FILE"))
vim.lsp.buf_attach_client(0, client_id)
vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local lines = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(lines, string.format("%d:%d:%s:%s", d.lnum, d.col, d.severity, d.message))
end
vim.fn.writefile(lines, os.getenv("OUT"))
vim.lsp.stop_client(client_id, true)
vim.cmd("qa!")
"#;

#[test]
fn neovim_receives_the_diagnostic_of_a_type_error() {
    let has_nvim = Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|it| it.success());
    if !has_nvim {
        if std::env::var("LIGATURE_SKIP_NVIM").as_deref() == Ok("1") {
            eprintln!("skipped: no nvim on PATH (LIGATURE_SKIP_NVIM=1)");
            return;
        }
        panic!(
            "this test needs Neovim: `make neovim` (apt-get install neovim), \
             or set LIGATURE_SKIP_NVIM=1 to skip it"
        );
    }
    let dir = std::env::temp_dir().join(format!("ligature-nvim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("broken.lig");
    std::fs::write(&file, "let port = 8080;\n\nlet next = port + \"1\";\n").expect("write");
    let script = dir.join("attach.lua");
    std::fs::write(&script, SCRIPT).expect("write");
    let out = dir.join("diagnostics.txt");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("LIGATURE_BIN", env!("CARGO_BIN_EXE_ligature"))
        .env("ROOT", &dir)
        .env("FILE", &file)
        .env("OUT", &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nvim starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("nvim's status").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let written = std::fs::read_to_string(&out).expect("nvim wrote the diagnostics");
    let lines: Vec<&str> = written.lines().collect();
    // Line 2 and column 18 (0-based): the `"1"` of `port + "1"`; severity 1 is an error.
    assert_eq!(lines, vec!["2:18:1:expected `Integer`, found `String`"]);
    let _ = std::fs::remove_dir_all(&dir);
}
