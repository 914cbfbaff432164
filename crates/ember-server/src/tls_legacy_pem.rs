//! OpenSSL's traditional encrypted PEM keys (`Proc-Type: 4,ENCRYPTED` with `DEK-Info:
//! AES-256-CBC,<iv>`), which Python's `cryptography` writes for `TraditionalOpenSSL` with a
//! password (Phoenix's own suite gives its server such a key): the key is derived from the
//! password and the IV's first 8 bytes with OpenSSL's `EVP_BytesToKey` (MD5, one round).

use aes::cipher::{BlockDecryptMut, KeyIvInit};
use md5::{Digest, Md5};

/// `(label, DER)` of a traditional encrypted PEM key, decrypted; `Err` naming the problem.
pub fn decrypt(pem_text: &str, password: &str) -> Result<(String, Vec<u8>), String> {
    let parsed = pem::parse(pem_text).map_err(|error| format!("not PEM: {error}"))?;
    let dek_info = parsed.headers().get("DEK-Info").ok_or("no DEK-Info header")?;
    let (cipher, iv_hex) = dek_info.split_once(',').ok_or("a DEK-Info header without an IV")?;
    let iv = hex::decode(iv_hex.trim()).map_err(|_| "a DEK-Info IV that is not hex")?;
    if iv.len() != 16 {
        return Err("a DEK-Info IV that is not 16 bytes".into());
    }
    let key_len = match cipher.trim() {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        other => return Err(format!("the cipher {other} (AES-128/192/256-CBC are supported)")),
    };
    let key = bytes_to_key(password.as_bytes(), &iv[..8], key_len);
    let mut buffer = parsed.contents().to_vec();
    let plain_len = match key_len {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(|e| e.to_string())?
            .decrypt_padded_mut::<aes::cipher::block_padding::Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(|e| e.to_string())?
            .decrypt_padded_mut::<aes::cipher::block_padding::Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(|e| e.to_string())?
            .decrypt_padded_mut::<aes::cipher::block_padding::Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
    }
    .map_err(|_| "the password does not open it")?;
    buffer.truncate(plain_len);
    Ok((parsed.tag().to_string(), buffer))
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round.
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(len + 16);
    let mut previous: Vec<u8> = Vec::new();
    while key.len() < len {
        let mut hasher = Md5::new();
        hasher.update(&previous);
        hasher.update(password);
        hasher.update(salt);
        previous = hasher.finalize().to_vec();
        key.extend_from_slice(&previous);
    }
    key.truncate(len);
    key
}
