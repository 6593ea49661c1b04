#!/usr/bin/env python3
"""Writes Tests/Golden/tokenizer/<model>.json: a corpus of tricky strings with the ids HF's
tokenizer (loaded straight from the GGUF, as lmdbg loads it) gives each, HF's decode of those
ids and of random id sequences, and, for byte-level models, the pieces HF's pre-tokenizer
splits each string into.

    HF_HUB_OFFLINE=1 python3 scripts/make_tokenizer_references.py [smollm2] [gpt2-tiny] [gemma3]
"""

import json
import os
import random
import sys

import tokenizers
import transformers
from transformers import AutoTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

MODELS_DIR = os.path.expanduser("~/.cache/lmdbg/models")
GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Golden")
OUT_DIR = os.path.join(GOLDEN_DIR, "tokenizer")

MODELS = {
    "smollm2": {
        "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "byte_level": True,
        "special_texts": [
            "<|im_start|>user\nHi<|im_end|>",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>assistant\n",
            "before<|endoftext|>after",
            "<|im_start|><|im_end|><|im_start|>",
            " <|im_end|> ",
            "<|im_start|>\n\n",
            "<|im_start",
            "<|im_start|",
            "< |im_start|>",
            "<|IM_START|>",
            "<|im_start|>>",
            "<<|im_end|>",
            "<filename>main.py<file_sep>print(1)",
            "<jupyter_code><jupyter_output>",
        ],
    },
    # The 300-token BPE of scripts/make_hf_fixtures.py, in the GGUF that script writes.
    "gpt2-tiny": {
        "gguf": "gpt2-tiny.f32.gguf",
        "directory": os.path.join(GOLDEN_DIR, "gpt2-tiny"),
        "byte_level": True,
        "special_texts": [
            "<|endoftext|>",
            "before<|endoftext|>after",
            "<|endoftext|><|endoftext|>",
            " <|endoftext|> ",
            "<|endoftext",
            "<|ENDOFTEXT|>",
            "<<|endoftext|>>",
        ],
    },
    "gemma3": {
        "gguf": "gemma-3-270m-q4_k_m.gguf",
        "byte_level": False,
        "special_texts": [
            "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
            "<bos>Hello",
            "Hello<eos>",
            "<start_of_turn><end_of_turn>",
            " <end_of_turn> ",
            "<start_of_turn",
            "<start_of_turn>>",
            "<<end_of_turn>",
            "<START_OF_TURN>",
            "<start_of_image><end_of_image>",
            "[multimodal] text",
            "<unused0>x<unused99>",
            "<mask><pad><unk>",
        ],
    },
}

LONG_PARAGRAPH = (
    "The history of computing is a story of layers. At the bottom, electrons move through silicon; "
    "above them, logic gates combine into adders and registers; above those, instruction sets give "
    "programmers a vocabulary of a few hundred verbs. Compilers translate richer languages into those "
    "verbs, operating systems share the machine among many programs, and libraries package decades of "
    "accumulated technique into a single function call. Each layer hides the one below it, and that "
    "hiding is what lets a person write, in an afternoon, a program that would have taken a team of "
    "engineers a year in 1965. Yet the hiding is never perfect: caches miss, floating-point numbers round, "
    "networks drop packets, and the abstraction leaks. Good engineers learn where their layers leak, "
    "and they keep a debugger close at hand -- because when something goes wrong at 3:00 a.m., "
    "the only way out is down, one layer at a time, until the surprise is found."
)

PYTHON_SNIPPET = '''def fibonacci(n: int) -> list[int]:
    """Returns the first n Fibonacci numbers."""
    numbers = [0, 1]
    while len(numbers) < n:
        numbers.append(numbers[-1] + numbers[-2])
    return numbers[:n]


if __name__ == "__main__":
    for i, value in enumerate(fibonacci(10)):
        print(f"{i:>3}: {value}")
'''

SWIFT_SNIPPET = '''struct Point: Equatable {
    var x: Double
    var y: Double

    func distance(to other: Point) -> Double {
        let dx = other.x - x, dy = other.y - y
        return (dx * dx + dy * dy).squareRoot()
    }
}

let origin = Point(x: 0, y: 0)
print(origin.distance(to: Point(x: 3, y: 4)))  // 5.0
'''

CORPUS = [
    "",
    "Hello world",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    " leading space",
    "   three leading spaces",
    "trailing space ",
    "trailing spaces   ",
    "runs  of   spaces    between     words",
    " ",
    "    ",
    "\ttab\tseparated\tvalues\t",
    "\t\t  \t mixed",
    "line one\nline two",
    "\n",
    "\n\n\n",
    "paragraph one\n\n\nparagraph two",
    "windows\r\nline\r\nendings\r\n",
    " \n \n ",
    "ends with newline\n",
    "12345",
    "3.14159",
    "1,000,000",
    "2024-01-15 at 09:30:00",
    "0x1F600 and 0b1010 and 1e-9",
    "version 1.2.3-beta+456",
    "don't",
    "I'M HERE, YOU'RE THERE",
    "they'll we've she'd it's I'm you're",
    "'s 't 're 've 'm 'll 'd",
    "rock 'n' roll ''quoted'' '''triple'''",
    "café naïve résumé",
    "Über straße Ärger",
    "中文字符测试，你好世界。",
    "日本語のテキスト、カタカナとひらがな。",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Привет, мир! Как дела?",
    "Ελληνικά και 한국어 텍스트",
    "😀 😃 😄 😁",
    "👨‍👩‍👧‍👦 family",
    "👩🏽‍💻 coder",
    "🇺🇸🇯🇵🇩🇪 flags",
    "❤️ ✨ 🎉",
    PYTHON_SNIPPET,
    SWIFT_SNIPPET,
    "https://example.com/path/to/page?query=1&other=two#section",
    "user@example.org, ftp://files.example.net/pub/file.tar.gz",
    "a\u00a0non\u2002breaking\u3000spaces\u2028here",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "e\u0301 combining acute, a\u0308",
    "x\U00010940y unassigned in Unicode 16",
    "Ⅻ ½ ² ٣ numbers of other kinds",
    "!!!??? ... --- ***",
    "$100 & 50% off @home #tag",
    LONG_PARAGRAPH,
]


def random_strings(count, seed):
    """Random text drawn from a mix of scripts, spaces, marks, symbols and unassigned code points."""
    rng = random.Random(seed)
    pools = [
        range(0x20, 0x7F), range(0xA0, 0x250), range(0x300, 0x370), range(0x370, 0x530),
        range(0x590, 0x700), range(0x900, 0x980), range(0x3040, 0x3100), range(0x4E00, 0x4F00),
        range(0xAC00, 0xAD00), range(0x1F300, 0x1F650), range(0x2000, 0x2070), range(0xE000, 0xE010),
        range(0x10000, 0x10100), range(0x30000, 0x30010), range(0xE0000, 0xE0080),
        # Letters and digits new in Unicode 17, which HF's regex engine does not know yet.
        range(0x10940, 0x1095A), range(0x11DB0, 0x11DEA), range(0x16EA0, 0x16EB9),
        [0x9, 0xA, 0xD, 0x20, 0x20, 0x20, 0x85, 0x200D, 0xFE0F, 0x27],
    ]
    strings = []
    for _ in range(count):
        length = rng.randint(1, 40)
        strings.append("".join(chr(rng.choice(rng.choice(pools))) for _ in range(length)))
    return strings


def pre_tokenized(tokenizer, text):
    """The pieces the backend's pre-tokenizer cuts `text` into, read back from the byte-level alphabet."""
    byte_for_char = {char: byte for byte, char in bytes_to_unicode().items()}
    pieces = tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)
    return [bytes(byte_for_char[char] for char in piece).decode("utf-8") for piece, _ in pieces]


def main():
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        spec = MODELS[name]
        tokenizer = AutoTokenizer.from_pretrained(spec.get("directory", MODELS_DIR), gguf_file=spec["gguf"])
        texts = CORPUS + spec["special_texts"] + random_strings(60, seed=20240611)
        cases = []
        for text in texts:
            ids = tokenizer(text)["input_ids"]
            cases.append({"text": text, "ids": ids, "decoded": tokenizer.decode(ids)})
            if spec["byte_level"]:
                cases[-1]["pieces"] = pre_tokenized(tokenizer, text)
        rng = random.Random(7)
        decodes = []
        for _ in range(200):
            ids = [rng.randrange(len(tokenizer)) for _ in range(rng.randint(1, 8))]
            decodes.append({"ids": ids, "text": tokenizer.decode(ids)})
        reference = {
            "gguf": spec["gguf"],
            "made_by": f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}",
            "cases": cases,
            "decodes": decodes,
        }
        os.makedirs(OUT_DIR, exist_ok=True)
        path = os.path.join(OUT_DIR, f"{name}.json")
        with open(path, "w", encoding="utf-8") as file:
            json.dump(reference, file, ensure_ascii=False, indent=1)
            file.write("\n")
        print(f"{path}: {len(cases)} cases, {len(decodes)} decodes")


if __name__ == "__main__":
    main()
