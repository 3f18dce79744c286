//! Name normalisation (KMIP Additional Message Encodings §6.1.3).

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Turns a KMIP name ("Encrypt then MAC/sign", "3DES", "PKCS#1") into the
/// CamelCase form the XML and JSON encodings use ("EncryptThenMACSign",
/// "DES3", "PKCS_1"), following the six rules of §6.1.3 exactly.
pub fn normalize_name(kmip_name: &str) -> String {
    // 1. Round brackets become spaces.
    let chars: Vec<char> = kmip_name
        .chars()
        .map(|c| if c == '(' || c == ')' { ' ' } else { c })
        .collect();
    // 2. A non-word character followed by a letter and a lower-case letter
    //    becomes a space (it separates words).
    let mut spaced = String::with_capacity(chars.len());
    for (i, c) in chars.iter().enumerate() {
        let starts_word = matches!(
            (chars.get(i + 1), chars.get(i + 2)),
            (Some(a), Some(b)) if a.is_ascii_alphabetic() && b.is_ascii_lowercase()
        );
        spaced.push(if !is_word(*c) && starts_word { ' ' } else { *c });
    }
    let mut words: Vec<String> = spaced
        .split_whitespace()
        // 3. Remaining non-word characters become underscores.
        .map(|w| {
            w.chars()
                .map(|c| if is_word(c) { c } else { '_' })
                .collect()
        })
        .collect();
    // 4. Leading digits of the first word move to its end.
    if let Some(first) = words.first_mut() {
        let digits: String = first.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            *first = format!("{}{digits}", first.get(digits.len()..).unwrap_or_default());
        }
    }
    // 5. and 6. Capitalise each word and join them.
    words
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}
