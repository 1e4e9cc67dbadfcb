using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RewardKit.Text;

/// <summary>
/// Reads and writes the byte-level BPE file formats: OpenAI's <c>encoder.json</c> + <c>vocab.bpe</c> (the same as
/// Hugging Face's <c>vocab.json</c> + <c>merges.txt</c>) and Hugging Face's <c>tokenizer.json</c>.
/// Every error names the file (and line or field) and what to do.
/// </summary>
static class TokenizerFiles
{
    static readonly JsonWriterOptions Pretty = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly JsonWriterOptions Compact = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // ---------------------------------------------------------------- reading

    public static ByteLevelBpeTokenizer ReadVocabAndMerges(string vocabPath, string mergesPath)
    {
        RequireFile(vocabPath, "vocabulary (vocab.json / encoder.json)");
        RequireFile(mergesPath, "merges (merges.txt / vocab.bpe)");
        using var doc = ParseJson(vocabPath);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{vocabPath}: expected a JSON object mapping tokens to ids, like {{\"!\": 0, \"\\\"\": 1}}; found {doc.RootElement.ValueKind}.");
        var vocab = ReadVocabObject(doc.RootElement, vocabPath, "the top-level object");
        var merges = ReadMergesText(mergesPath);
        return Build(vocab, merges, [], vocabPath, mergesPath);
    }

    public static ByteLevelBpeTokenizer ReadTokenizerJson(string path)
    {
        RequireFile(path, "tokenizer.json");
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: no \"model\" object; is this a Hugging Face tokenizer.json?");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (type != "BPE")
            throw new InvalidDataException($"{path}: field model.type is \"{type}\"; RewardKit reads byte-level BPE tokenizers only (model.type \"BPE\").");
        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
            throw new InvalidDataException($"{path}: field normalizer is set; RewardKit's byte-level BPE applies no normalizer (GPT-2 style files have \"normalizer\": null).");
        CheckByteLevel(root, path);
        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: field model.vocab is missing or not an object mapping tokens to ids.");
        var vocab = ReadVocabObject(vocabElement, path, "model.vocab");

        var merges = new List<(string, string, int)>();
        if (model.TryGetProperty("merges", out var mergesElement))
        {
            if (mergesElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: field model.merges must be an array of \"left right\" strings or [left, right] pairs.");
            int index = 0;
            foreach (var m in mergesElement.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    var parts = m.GetString()!.Split(' ');
                    if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                        throw new InvalidDataException($"{path}: model.merges[{index}] is \"{m.GetString()}\"; expected two tokens separated by one space.");
                    merges.Add((parts[0], parts[1], index));
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                         && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                    merges.Add((m[0].GetString()!, m[1].GetString()!, index));
                else
                    throw new InvalidDataException($"{path}: model.merges[{index}] must be a \"left right\" string or a [left, right] pair of strings.");
                index++;
            }
        }

        var added = new List<SpecialToken>();
        if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (var a in addedElement.EnumerateArray())
            {
                if (!a.TryGetProperty("id", out var idEl) || !idEl.TryGetInt32(out int id) || id < 0
                    || !a.TryGetProperty("content", out var contentEl) || contentEl.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}: added_tokens[{index}] needs a non-negative integer \"id\" and a string \"content\".");
                added.Add(new SpecialToken(contentEl.GetString()!, id));
                index++;
            }
        }
        return Build(vocab, merges, added, path, path);
    }

    static void CheckByteLevel(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
            throw new InvalidDataException($"{path}: field pre_tokenizer is missing; RewardKit reads byte-level BPE (pre_tokenizer type \"ByteLevel\").");
        JsonElement? byteLevel = null;
        string preType = pre.TryGetProperty("type", out var pt) ? pt.GetString() ?? "" : "";
        if (preType == "ByteLevel") byteLevel = pre;
        else if (preType == "Sequence" && pre.TryGetProperty("pretokenizers", out var seq) && seq.ValueKind == JsonValueKind.Array
                 && seq.GetArrayLength() == 1 && seq[0].TryGetProperty("type", out var st) && st.GetString() == "ByteLevel")
            byteLevel = seq[0];
        if (byteLevel is null)
            throw new InvalidDataException($"{path}: pre_tokenizer type \"{preType}\" is not supported; RewardKit reads byte-level BPE with the GPT-2 pattern (pre_tokenizer type \"ByteLevel\").");
        if (byteLevel.Value.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
            throw new InvalidDataException($"{path}: pre_tokenizer.add_prefix_space is true; RewardKit encodes like GPT-2 (add_prefix_space false). Set it to false or add the space to the text yourself.");
        if (byteLevel.Value.TryGetProperty("use_regex", out var ur) && ur.ValueKind == JsonValueKind.False)
            throw new InvalidDataException($"{path}: pre_tokenizer.use_regex is false; RewardKit always splits with the GPT-2 pattern.");
    }

    static Dictionary<string, int> ReadVocabObject(JsonElement obj, string path, string where)
    {
        var vocab = new Dictionary<string, int>();
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{path}: in {where}, token \"{p.Name}\" has id {p.Value.GetRawText()}; ids must be non-negative integers.");
            vocab[p.Name] = id;
        }
        if (vocab.Count == 0) throw new InvalidDataException($"{path}: {where} is empty; a byte-level BPE vocabulary has at least the 256 byte tokens.");
        return vocab;
    }

    static List<(string, string, int)> ReadMergesText(string path)
    {
        var merges = new List<(string, string, int)>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{path}:{lineNumber}: expected two tokens separated by one space (a merge rule like \"Ġ t\"), found \"{Shorten(line)}\".");
            merges.Add((parts[0], parts[1], lineNumber));
        }
        return merges;
    }

    /// <summary>Turns string-keyed files into the tokenizer: dense ids, bytes per id, merges as id pairs, special tokens.</summary>
    static ByteLevelBpeTokenizer Build(Dictionary<string, int> vocab, List<(string Left, string Right, int Line)> merges,
        List<SpecialToken> added, string vocabPath, string mergesPath)
    {
        int size = Math.Max(vocab.Values.Max(), added.Count == 0 ? -1 : added.Max(a => a.Id)) + 1;
        var tokens = new byte[]?[size];
        var specials = new Dictionary<int, SpecialToken>();
        foreach (var a in added)
        {
            specials[a.Id] = a;
            tokens[a.Id] = Encoding.UTF8.GetBytes(a.Content);
        }
        foreach (var (token, id) in vocab)
        {
            if (tokens[id] != null && !specials.ContainsKey(id))
                throw new InvalidDataException($"{vocabPath}: id {id} is given to two tokens (one is \"{token}\"); each id must appear once.");
            if (specials.TryGetValue(id, out var s))
            {
                if (s.Content != token)
                    throw new InvalidDataException($"{vocabPath}: id {id} is \"{token}\" in the vocabulary but \"{s.Content}\" in added_tokens.");
                continue;
            }
            var bytes = ByteLevel.TokenToBytes(token);
            if (bytes is null || token is ByteLevelBpeTokenizer.EndOfText or ByteLevelBpeTokenizer.Pad)
            {
                // <|endoftext|>, <|pad|> and tokens outside the byte alphabet are matched whole, not by BPE.
                specials[id] = new SpecialToken(token, id);
                bytes = Encoding.UTF8.GetBytes(token);
            }
            tokens[id] = bytes;
        }
        for (int id = 0; id < size; id++)
            if (tokens[id] is null)
                throw new InvalidDataException($"{vocabPath}: no token has id {id} (ids must run from 0 to {size - 1} without gaps).");

        if (!specials.Values.Any(s => s.Content == ByteLevelBpeTokenizer.Pad))
        {
            // GPT-2 has no padding token; padding with <|endoftext|> would make a padded row look like one that
            // ends with end-of-text, so RewardKit adds a distinct one as the next id.
            Array.Resize(ref tokens, size + 1);
            tokens[size] = Encoding.UTF8.GetBytes(ByteLevelBpeTokenizer.Pad);
            specials[size] = new SpecialToken(ByteLevelBpeTokenizer.Pad, size);
        }

        var mergeIds = new List<(int, int)>(merges.Count);
        foreach (var (left, right, line) in merges)
        {
            if (!vocab.TryGetValue(left, out int l) || !vocab.TryGetValue(right, out int r))
                throw new InvalidDataException($"{mergesPath}:{line}: merge \"{left} {right}\" uses a token that is not in {Path.GetFileName(vocabPath)}; the vocabulary and merges files do not belong together.");
            if (!vocab.ContainsKey(left + right))
                throw new InvalidDataException($"{mergesPath}:{line}: merge \"{left} {right}\" makes \"{left + right}\", which is not in {Path.GetFileName(vocabPath)}; the vocabulary and merges files do not belong together.");
            mergeIds.Add((l, r));
        }
        try
        {
            return new ByteLevelBpeTokenizer(tokens!, mergeIds, specials.Values.OrderBy(s => s.Id).ToList());
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{vocabPath}: {e.Message}", e);
        }
    }

    static JsonDocument ParseJson(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
    }

    static void RequireFile(string path, string what)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} file '{path}' does not exist.", path);
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "...";

    // ---------------------------------------------------------------- writing

    public static void WriteTokenizerJson(ByteLevelBpeTokenizer tok, string path)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, Pretty);
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var s in tok.SpecialTokens)
        {
            w.WriteStartObject();
            w.WriteNumber("id", s.Id);
            w.WriteString("content", s.Content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        WriteByteLevel(w, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true);
        WriteByteLevel(w, "post_processor", addPrefixSpace: true, trimOffsets: false);
        WriteByteLevel(w, "decoder", addPrefixSpace: true, trimOffsets: true);
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WritePropertyName("vocab");
        WriteVocab(w, tok);
        w.WriteStartArray("merges");
        foreach (var (l, r) in tok.Merges) w.WriteStringValue(tok.TokenText(l) + " " + tok.TokenText(r));
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void WriteByteLevel(Utf8JsonWriter w, string name, bool addPrefixSpace, bool trimOffsets)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    static void WriteVocab(Utf8JsonWriter w, ByteLevelBpeTokenizer tok)
    {
        w.WriteStartObject();
        for (int id = 0; id < tok.VocabSize; id++) w.WriteNumber(tok.TokenText(id), id);
        w.WriteEndObject();
    }

    public static void WriteDirectory(ByteLevelBpeTokenizer tok, string dir)
    {
        Directory.CreateDirectory(dir);
        WriteTokenizerJson(tok, Path.Combine(dir, "tokenizer.json"));
        using (var stream = File.Create(Path.Combine(dir, "vocab.json")))
        using (var w = new Utf8JsonWriter(stream, Compact))
            WriteVocab(w, tok);
        using (var merges = new StreamWriter(Path.Combine(dir, "merges.txt"), false, new UTF8Encoding(false)))
        {
            merges.NewLine = "\n";
            merges.WriteLine("#version: 0.2");
            foreach (var (l, r) in tok.Merges) merges.WriteLine(tok.TokenText(l) + " " + tok.TokenText(r));
        }
        WriteSpecialTokenFiles(tok, dir);
    }

    static void WriteSpecialTokenFiles(ByteLevelBpeTokenizer tok, string dir)
    {
        string? eos = tok.EndOfTextId >= 0 ? ByteLevelBpeTokenizer.EndOfText : null;
        string? pad = tok.PadId >= 0 ? ByteLevelBpeTokenizer.Pad : null;
        using (var stream = File.Create(Path.Combine(dir, "special_tokens_map.json")))
        using (var w = new Utf8JsonWriter(stream, Pretty))
        {
            w.WriteStartObject();
            WriteRoles(w, eos, pad);
            w.WriteEndObject();
        }
        using (var stream = File.Create(Path.Combine(dir, "tokenizer_config.json")))
        using (var w = new Utf8JsonWriter(stream, Pretty))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_prefix_space", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (var s in tok.SpecialTokens)
            {
                w.WriteStartObject(s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("content", s.Content);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteRoles(w, eos, pad);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteNumber("model_max_length", 1024);
            w.WriteString("tokenizer_class", "GPT2Tokenizer");
            w.WriteEndObject();
        }
    }

    static void WriteRoles(Utf8JsonWriter w, string? eos, string? pad)
    {
        if (eos != null)
        {
            w.WriteString("bos_token", eos);
            w.WriteString("eos_token", eos);
            w.WriteString("unk_token", eos);
        }
        if (pad != null) w.WriteString("pad_token", pad);
    }
}
