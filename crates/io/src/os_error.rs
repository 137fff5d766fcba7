//! What to do about an operating-system error on a path, for messages that would otherwise end
//! at "No such file or directory (os error 2)".

use std::io::ErrorKind;

/// A short fix for `error` met while reading or writing a file or folder.
pub fn os_fix(error: &std::io::Error) -> &'static str {
    match error.kind() {
        ErrorKind::NotFound => {
            "check that the path is spelled right and that the folder it goes in exists and is \
             writable"
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "check its permissions, or give a path in a writable folder"
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            "free disk space, or give a path on another disk"
        }
        ErrorKind::AlreadyExists => "move the existing entry away, or give another path",
        ErrorKind::NotADirectory => "a part of the path is a file; give another path",
        ErrorKind::IsADirectory => "it is a folder; give a file path",
        _ => "check the path, its permissions and the free disk space",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_common_cause_gets_its_own_fix() {
        let fix = |kind| os_fix(&std::io::Error::from(kind));
        assert!(fix(ErrorKind::NotFound).contains("spelled right"));
        assert!(fix(ErrorKind::PermissionDenied).contains("permissions"));
        assert!(fix(ErrorKind::StorageFull).contains("disk space"));
        assert!(fix(ErrorKind::NotADirectory).contains("is a file"));
        let missing = std::fs::create_dir("/nonexistent-vidnas-parent/child").unwrap_err();
        assert!(os_fix(&missing).contains("folder it goes in exists"));
    }
}
