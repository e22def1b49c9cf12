using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Text.Json;
using JobQueue.Engine;

namespace JobQueue.Infrastructure;

/// <summary>
/// Turns what a PowerShell user passes as a config (a hashtable, a custom object such as a CSV
/// row, or JSON text) into JSON text, keeping keys, nesting, numbers and unicode as given.
/// </summary>
internal static class ConfigConverter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static string ToJson(object? input)
    {
        var value = Unwrap(input);
        switch (value)
        {
            case null:
                return "{}";
            case string text:
                return ConfigJson.NormalizeObject(text);
            case IDictionary:
            case PSObject:
                break;
            default:
                if (value is IEnumerable || IsScalar(value))
                {
                    throw new JobQueueException(ErrorKind.InvalidConfig,
                        $"The config must be a hashtable, an object or JSON object text, not a {value.GetType().Name}.", null, code: "InvalidConfig");
                }
                break;
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            if (value is IDictionary or PSObject)
            {
                Write(writer, value, 0);
            }
            else
            {
                // Any other object (a row of a data table, a .NET record): its public properties.
                WriteProperties(writer, PSObject.AsPSObject(value), 0);
            }
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string FromFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // ArgumentException: a path with a NUL character.
            throw new JobQueueException(ErrorKind.InvalidConfig, $"Cannot read the config file '{path.Replace("\0", "\\0")}': {ex.Message}", path, ex, "ConfigFileUnreadable");
        }
        try
        {
            return ConfigJson.NormalizeObject(text);
        }
        catch (JobQueueException ex)
        {
            throw new JobQueueException(ErrorKind.InvalidConfig, $"The config file '{path}' does not hold a JSON object: {ex.Message}", path, ex, "InvalidConfig");
        }
    }

    private static object? Unwrap(object? value)
    {
        while (value is PSObject ps)
        {
            if (ps.BaseObject is PSCustomObject) return ps;
            value = ps.BaseObject;
        }
        return value;
    }

    private static bool IsScalar(object value) =>
        value is bool or char or sbyte or byte or short or ushort or int or uint or long or ulong
            or float or double or decimal or System.Numerics.BigInteger or DateTime or DateTimeOffset or Guid or Enum or TimeSpan;

    private static void Write(Utf8JsonWriter writer, object? input, int depth)
    {
        if (depth > ConfigJson.MaxDepth)
        {
            throw new JobQueueException(ErrorKind.InvalidConfig, $"The config is nested more than {ConfigJson.MaxDepth} levels deep.", null, code: "InvalidConfig");
        }
        var value = Unwrap(input);
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                return;
            case string s:
                writer.WriteStringValue(CheckText(s));
                return;
            case char c:
                writer.WriteStringValue(CheckText(c.ToString()));
                return;
            case bool b:
                writer.WriteBooleanValue(b);
                return;
            case SwitchParameter sw:
                writer.WriteBooleanValue(sw.IsPresent);
                return;
            case sbyte or byte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                return;
            case ulong ul:
                writer.WriteNumberValue(ul);
                return;
            case System.Numerics.BigInteger big:
                writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                return;
            case float or double:
                var d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(d) || double.IsInfinity(d))
                {
                    throw new JobQueueException(ErrorKind.InvalidConfig, $"The config holds {d}, which JSON cannot represent.", null, code: "InvalidConfig");
                }
                writer.WriteNumberValue(d);
                return;
            case decimal m:
                writer.WriteNumberValue(m);
                return;
            case DateTime dt:
                writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture));
                return;
            case DateTimeOffset dto:
                writer.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture));
                return;
            case TimeSpan ts:
                writer.WriteStringValue(ts.ToString("c", CultureInfo.InvariantCulture));
                return;
            case Guid or Enum:
                writer.WriteStringValue(value.ToString());
                return;
            case IDictionary dict:
                writer.WriteStartObject();
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (DictionaryEntry entry in dict)
                {
                    var key = CheckText(Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? "");
                    if (!keys.Add(key))
                    {
                        // @{ 1 = 'a'; '1' = 'b' }: two keys, one JSON name; one value would be lost.
                        throw new JobQueueException(ErrorKind.InvalidConfig,
                            $"The config has two keys that are both '{key}' as text; rename one.", null, code: "InvalidConfig");
                    }
                    writer.WritePropertyName(key);
                    Write(writer, entry.Value, depth + 1);
                }
                writer.WriteEndObject();
                return;
            case PSObject custom:
                WriteProperties(writer, custom, depth);
                return;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items) Write(writer, item, depth + 1);
                writer.WriteEndArray();
                return;
            default:
                writer.WriteStringValue(CheckText(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
                return;
        }
    }

    /// <summary>The JSON writer would turn an unpaired surrogate into U+FFFD without a word; refuse it instead.</summary>
    private static string CheckText(string text)
    {
        var index = TextRules.IndexOfLoneSurrogate(text);
        if (index >= 0)
        {
            throw new JobQueueException(ErrorKind.InvalidConfig,
                $"The config has a string with an unpaired UTF-16 surrogate (U+{(int)text[index]:X4} at index {index}), which cannot be stored as text.", null, code: "InvalidConfig");
        }
        return text;
    }

    private static void WriteProperties(Utf8JsonWriter writer, PSObject obj, int depth)
    {
        writer.WriteStartObject();
        foreach (var property in obj.Properties)
        {
            if (property is not (PSNoteProperty or PSProperty or PSAliasProperty or PSScriptProperty)) continue;
            writer.WritePropertyName(CheckText(property.Name));
            object? propertyValue;
            try
            {
                propertyValue = property.Value;
            }
            catch (GetValueException)
            {
                propertyValue = null;
            }
            Write(writer, propertyValue, depth + 1);
        }
        writer.WriteEndObject();
    }
}
