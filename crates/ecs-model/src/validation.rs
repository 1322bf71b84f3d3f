//! Problems found in a request before it is sent (or, in the emulator, when
//! a request is received).

use std::fmt;

/// One problem with one request parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    parameter: String,
    message: String,
}

impl ValidationError {
    pub(crate) fn new(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    /// The wire name of the parameter at fault (`RegionId`, `Tag.3.Key`...).
    pub fn parameter(&self) -> &str {
        &self.parameter
    }

    /// The rule that was broken and what to do about it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parameter, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Every problem found in a request, reported at once so the user can fix
/// them all in one go. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: Vec<ValidationError>,
}

impl ValidationErrors {
    /// `Ok(())` when `errors` is empty, the errors otherwise.
    pub(crate) fn check(errors: Vec<ValidationError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self { errors })
        }
    }

    /// The individual problems, in parameter order.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.errors.iter()
    }

    /// Number of problems (at least one).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a `ValidationErrors` holds at least one problem.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Whether some problem concerns `parameter` (wire name, exact).
    pub fn concerns(&self, parameter: &str) -> bool {
        self.errors.iter().any(|e| e.parameter == parameter)
    }

    /// Consumes the collection, giving the problems.
    pub fn into_vec(self) -> Vec<ValidationError> {
        self.errors
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        write!(
            f,
            "invalid request ({count} problem{}): ",
            if count == 1 { "" } else { "s" }
        )?;
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// One problem on its own.
impl From<ValidationError> for ValidationErrors {
    fn from(error: ValidationError) -> Self {
        Self {
            errors: vec![error],
        }
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors() -> ValidationErrors {
        let first = ValidationError::new("RegionId", "is required");
        let second = ValidationError::new("Tag.1.Key", "must not be empty");
        ValidationErrors::check(vec![first, second]).unwrap_err()
    }

    #[test]
    fn no_problem_is_ok_and_every_problem_is_kept_in_order() {
        assert_eq!(ValidationErrors::check(Vec::new()), Ok(()));
        let errors = errors();
        assert_eq!(errors.len(), 2);
        assert!(!errors.is_empty());
        let params: Vec<&str> = errors.iter().map(ValidationError::parameter).collect();
        assert_eq!(params, ["RegionId", "Tag.1.Key"]);
        let borrowed: Vec<&str> = (&errors).into_iter().map(|e| e.message()).collect();
        assert_eq!(borrowed, ["is required", "must not be empty"]);
        assert_eq!(errors.errors().len(), 2);
        assert!(errors.concerns("Tag.1.Key"));
        assert!(!errors.concerns("Tag.1"), "wire names match exactly");
        let owned = errors.into_vec();
        assert_eq!(owned.len(), 2);
        assert_eq!(owned[1].parameter(), "Tag.1.Key");
    }

    #[test]
    fn display_counts_and_separates_the_problems() {
        assert_eq!(
            errors().to_string(),
            "invalid request (2 problems): RegionId: is required; Tag.1.Key: must not be empty"
        );
        let one = ValidationErrors::from(ValidationError::new("PageSize", "must be 1 to 50"));
        assert_eq!(one.len(), 1);
        assert_eq!(
            one.to_string(),
            "invalid request (1 problem): PageSize: must be 1 to 50"
        );
    }
}
