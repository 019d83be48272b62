"""Generates WeChat Pay AEAD_AES_256_GCM test vectors with an independent implementation
(the Python `cryptography` package), as payments.md §1.5 describes the scheme: key = the
32-byte APIv3 key, nonce = 12 ASCII characters, AAD = associated_data, ciphertext =
Base64(encrypted bytes || 16-byte tag). The Rust tests decrypt them.

    python3 server/connectors/testdata/wechatpay_vectors.py > server/connectors/testdata/wechatpay_aes.json
"""
import base64
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CASES = [
    ("v3key-0123456789abcdef0123456789", "a1b2c3d4e5f6", "transaction",
     '{"sp_mchid":"1900000100","sub_mchid":"1900000201","out_trade_no":"VL2611271200000000000000000001",'
     '"transaction_id":"4200000000202611270000000001","trade_state":"SUCCESS","amount":{"total":3000}}'),
    ("v3key-0123456789abcdef0123456789", "000000000000", "", '{"empty_aad":true}'),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "nonce-123456", "refund", '{"refund_status":"SUCCESS","中文":"退款"}'),
]

out = []
for key, nonce, aad, plaintext in CASES:
    sealed = AESGCM(key.encode()).encrypt(nonce.encode(), plaintext.encode(), aad.encode() if aad else None)
    out.append({"key": key, "nonce": nonce, "associated_data": aad, "plaintext": plaintext,
                "ciphertext": base64.b64encode(sealed).decode()})
print(json.dumps(out, ensure_ascii=False, indent=1))
