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

    // Stored text keeps unicode as written, so the guide's SQL shows it readably.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Checks that <paramref name="json"/> is one JSON object and returns it in canonical compact form.</summary>
    public static string NormalizeObject(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, DocumentOptions);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JobQueueException(ErrorKind.InvalidConfig,
                    $"The config must be a JSON object such as {{\"epochs\": 10}}, not a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            }
            using var buffer = new MemoryStream(json.Length + 16);
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                doc.RootElement.WriteTo(writer);
            }
            return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (JsonException ex)
        {
            throw new JobQueueException(ErrorKind.InvalidConfig, $"The config is not valid JSON: {ex.Message}", null, ex);
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
                if (element.TryGetDecimal(out var dec) && !element.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase)
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
