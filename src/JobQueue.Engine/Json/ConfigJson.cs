using System.Collections;
using System.Collections.Specialized;
using System.Text.Json;

namespace JobQueue.Engine;

/// <summary>
/// A job's config travels as JSON text. This turns it back into the shapes PowerShell users
/// submitted: ordered dictionaries, object arrays, strings, numbers, booleans and nulls.
/// </summary>
public static class ConfigJson
{
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth };
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    /// <summary>
    /// Checks that <paramref name="json"/> is exactly one JSON object and returns it unchanged, so a
    /// config is stored byte for byte as given.
    /// </summary>
    public static string NormalizeObject(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (TextRules.IndexOfLoneSurrogate(json) is var lone and >= 0)
        {
            throw new JobQueueException(ErrorKind.InvalidConfig,
                $"The config has an unpaired UTF-16 surrogate (U+{(int)json[lone]:X4} at index {lone}), which cannot be stored as text.", null, code: "InvalidConfig");
        }
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                var kind = reader.TokenType switch
                {
                    JsonTokenType.StartArray => "an array",
                    JsonTokenType.String => "a string",
                    JsonTokenType.Number => "a number",
                    JsonTokenType.True or JsonTokenType.False => "a boolean",
                    JsonTokenType.Null => "null",
                    _ => "empty",
                };
                throw new JobQueueException(ErrorKind.InvalidConfig,
                    $"The config must be a JSON object such as {{\"epochs\": 10}}, not {kind}.", null, code: "InvalidConfig");
            }
            CheckValues(ref reader);
            if (reader.Read())
            {
                throw new JobQueueException(ErrorKind.InvalidConfig, "The config has text after the end of its JSON object.", null, code: "InvalidConfig");
            }
            return json;
        }
        catch (JsonException ex)
        {
            throw new JobQueueException(ErrorKind.InvalidConfig, $"The config is not valid JSON: {ex.Message}", null, ex, "InvalidConfig");
        }
    }

    /// <summary>
    /// Reads to the end of the object that starts at the reader, refusing what would not come back
    /// as submitted: numbers beyond double's range (they would read back as Infinity) and escaped
    /// unpaired surrogates ("\ud800", which no .NET string read from JSON can hold).
    /// </summary>
    private static void CheckValues(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Number:
                    if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                    {
                        throw new JobQueueException(ErrorKind.InvalidConfig,
                            $"The config holds the number {System.Text.Encoding.UTF8.GetString(reader.ValueSpan)}, which is beyond the range of a double.", null, code: "InvalidConfig");
                    }
                    break;
                case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                    try
                    {
                        reader.GetString();
                    }
                    catch (InvalidOperationException ex)
                    {
                        throw new JobQueueException(ErrorKind.InvalidConfig, $"The config has a string that is not valid text: {ex.Message}", null, ex, "InvalidConfig");
                    }
                    break;
            }
        }
    }

    /// <summary>JSON text of an object to an ordered dictionary (keys compared case-insensitively, as in PowerShell).</summary>
    public static IDictionary ToDictionary(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        }
        using var doc = JsonDocument.Parse(json, DocumentOptions);
        return ToValue(doc.RootElement) as IDictionary ?? new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public static object? ToValue(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var dict = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
                foreach (var property in element.EnumerateObject())
                {
                    if (dict.Contains(property.Name))
                    {
                        // Keys that differ only in case: keep them all, exactly as submitted.
                        return ToCaseSensitive(element);
                    }
                    dict.Add(property.Name, ToValue(property.Value));
                }
                return dict;
            case JsonValueKind.Array:
                var list = new object?[element.GetArrayLength()];
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    list[i++] = ToValue(item);
                }
                return list;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                if (element.TryGetInt32(out var i32)) return i32;
                if (element.TryGetInt64(out var i64)) return i64;
                if (element.TryGetUInt64(out var u64)) return u64;
                var raw = element.GetRawText();
                if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
                {
                    // An integer beyond 64 bits (a [bigint]): a double would lose its digits.
                    return System.Numerics.BigInteger.Parse(raw, System.Globalization.CultureInfo.InvariantCulture);
                }
                if (element.TryGetDecimal(out var dec) && !raw.Contains('e', StringComparison.OrdinalIgnoreCase)
                    && dec.Scale > 0 && (double)dec != element.GetDouble())
                {
                    return dec;
                }
                return element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static OrderedDictionary ToCaseSensitive(JsonElement element)
    {
        var dict = new OrderedDictionary(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            dict[property.Name] = ToValue(property.Value);
        }
        return dict;
    }

    /// <summary>Command vectors are stored as JSON arrays of strings.</summary>
    public static string? CommandToJson(IReadOnlyList<string>? command) =>
        command is null || command.Count == 0 ? null : JsonSerializer.Serialize(command, CommandOptions);

    private static readonly JsonSerializerOptions CommandOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string[]? CommandFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<string[]>(json);
}
