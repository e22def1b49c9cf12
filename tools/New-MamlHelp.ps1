<#
.SYNOPSIS
    Builds the module's help: docs/en-US/<Verb-Noun>.md pages into one MAML file, and
    about_*.md pages into about_*.help.txt.

.DESCRIPTION
    Descriptions, examples and notes come from the markdown pages (format: docs/en-US/README.md).
    Syntax and parameter metadata (type, mandatory, position, pipeline input, aliases, wildcards,
    parameter sets, enum values) come from the built cmdlets, so the help cannot disagree with
    the code. The build fails, listing every problem, when an exported cmdlet has no page, a page
    lacks a synopsis, a description, a runnable example or a description of one of the cmdlet's
    parameters, documents a parameter the cmdlet does not have, or its SYNTAX section differs
    from the cmdlet's (-UpdateSyntax rewrites those sections).

    It imports the built module, so it must run in a pwsh process of its own: build.ps1 starts
    one, and the process that builds the assembly never loads it.

.EXAMPLE
    dotnet pwsh -NoProfile -File tools/New-MamlHelp.ps1 -UpdateSyntax
#>
[CmdletBinding()]
param(
    [string] $Source = (Join-Path $PSScriptRoot '../docs/en-US'),
    [string] $Destination = (Join-Path $PSScriptRoot '../en-US'),
    [string] $ModulePath = (Join-Path $PSScriptRoot '../JobQueue.psd1'),
    # Rewrite each page's SYNTAX section from the cmdlet instead of failing when it differs.
    [switch] $UpdateSyntax
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
. (Join-Path $PSScriptRoot 'HelpMarkdown.ps1')

$MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'
$StandardDescriptions = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

# ---- what the cmdlets say about themselves ----------------------------------------------------

function Get-TypeName([type] $Type, [switch] $Full) {
    # Nullable<T> shows as T: the user passes a T.
    $element = if ($Type.IsArray) { $Type.GetElementType() } else { $Type }
    $inner = [Nullable]::GetUnderlyingType($element)
    if ($inner) { $element = $inner }
    $name = if ($Full) { $element.FullName } else { $element.Name }
    if ($Type.IsArray) { "$name[]" } else { $name }
}

function Get-EnumValue([type] $Type) {
    $element = if ($Type.IsArray) { $Type.GetElementType() } else { $Type }
    $inner = [Nullable]::GetUnderlyingType($element)
    if ($inner) { $element = $inner }
    if ($element.IsEnum) { return [Enum]::GetNames($element) }
}

function Get-CmdletModel([System.Management.Automation.CmdletInfo] $Command) {
    $skip = [System.Management.Automation.Cmdlet]::CommonParameters
    $parameters = [ordered]@{}
    foreach ($meta in $Command.Parameters.Values) {
        if ($skip.Contains($meta.Name)) { continue }
        $sets = @($meta.ParameterSets.Values)
        $positions = @($sets | Where-Object Position -GE 0 | ForEach-Object Position)
        $pipeline = @(
            if ($sets | Where-Object ValueFromPipeline) { 'ByValue' }
            if ($sets | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' }
        )
        $parameters[$meta.Name] = [pscustomobject]@{
            Name     = $meta.Name
            Type     = $meta.ParameterType
            IsSwitch = $meta.SwitchParameter
            Required = -not ($sets | Where-Object { -not $_.IsMandatory })
            Position = if ($positions.Count) { [string]$positions[0] } else { 'named' }
            Pipeline = if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }
            Aliases  = if ($meta.Aliases.Count) { $meta.Aliases -join ', ' } else { 'none' }
            Globbing = [bool]($meta.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            Values   = @(Get-EnumValue $meta.ParameterType)
            Standard = $StandardDescriptions.ContainsKey($meta.Name)
        }
    }
    $sets = foreach ($set in ($Command.ParameterSets | Sort-Object { -not $_.IsDefault }, Name)) {
        $members = @($set.Parameters | Where-Object { $parameters.Contains($_.Name) })
        $positional = @($members | Where-Object Position -GE 0 | Sort-Object Position)
        $named = @($members | Where-Object Position -LT 0)
        $ordered = $positional + @($named | Where-Object { $_.IsMandatory -and -not $parameters[$_.Name].Standard }) +
            @($named | Where-Object { -not $_.IsMandatory -and -not $parameters[$_.Name].Standard }) +
            @($named | Where-Object { $parameters[$_.Name].Standard })
        [pscustomobject]@{
            Name       = $set.Name
            IsDefault  = $set.IsDefault
            Parameters = $ordered
            Text       = Format-SyntaxLine $Command.Name $ordered $parameters
        }
    }
    [pscustomobject]@{
        Name        = $Command.Name
        Verb        = $Command.Verb
        Noun        = $Command.Noun
        HelpFile    = $Command.HelpFile
        Parameters  = $parameters
        Sets        = @($sets)
        OutputTypes = @($Command.OutputType | ForEach-Object Name)
    }
}

function Format-SyntaxLine([string] $Name, [object[]] $SetParameters, $Parameters) {
    $tokens = foreach ($p in $SetParameters) {
        $model = $Parameters[$p.Name]
        $token = if ($p.Position -ge 0) { "[-$($p.Name)]" } else { "-$($p.Name)" }
        if (-not $model.IsSwitch) { $token += " <$(Get-TypeName $model.Type)>" }
        if ($p.IsMandatory) { $token } else { "[$token]" }
    }
    (@($Name) + @($tokens) + '[<CommonParameters>]') -join ' '
}

function Format-SyntaxMarkdown($Model) {
    $fence = '```'
    $lines = foreach ($set in $Model.Sets) {
        if ($Model.Sets.Count -gt 1) { "### $($set.Name)$(if ($set.IsDefault) { ' (Default)' })"; '' }
        $fence; $set.Text; $fence; ''
    }
    @($lines | Select-Object -SkipLast 1)
}

# ---- checking a page against its cmdlet --------------------------------------------------------

function Test-SyntaxSection($Page, $Model) {
    if ($null -eq $Page.Syntax) { return $false }
    $written = @($Page.Syntax)
    if ($written.Count -ne $Model.Sets.Count) { return $false }
    $normalize = { param($s) ($s -replace '\s+', ' ').Trim() }
    for ($i = 0; $i -lt $written.Count; $i++) {
        $set = $Model.Sets[$i]
        if ((& $normalize $written[$i].Text) -ne (& $normalize $set.Text)) { return $false }
        if ($Model.Sets.Count -gt 1 -and ($written[$i].Set -ne $set.Name -or $written[$i].Default -ne $set.IsDefault)) { return $false }
    }
    $true
}

function Update-SyntaxSection([string] $Path, [string[]] $Syntax) {
    $lines = [Collections.Generic.List[string]](Get-Content -LiteralPath $Path -Encoding utf8)
    $start = $lines.IndexOf('## SYNTAX')
    if ($start -lt 0) {
        $start = $lines.IndexOf('## DESCRIPTION')
        if ($start -lt 0) { throw "$Path has neither '## SYNTAX' nor '## DESCRIPTION' to put the syntax before." }
        $lines.InsertRange($start, [string[]]@('## SYNTAX', '', ''))
    }
    $end = $start + 1
    $inFence = $false
    while ($end -lt $lines.Count -and ($inFence -or -not $lines[$end].StartsWith('## '))) {
        if ($lines[$end] -match '^\s*```') { $inFence = -not $inFence }
        $end++
    }
    $lines.RemoveRange($start + 1, $end - $start - 1)
    $lines.InsertRange($start + 1, [string[]](@('') + $Syntax + @('')))
    [IO.File]::WriteAllText($Path, (($lines -join "`n") + "`n"))
}

function Get-PageProblem($Page, $Model) {
    $Page.Problems
    if (-not $Page.Synopsis) { 'it needs a ## SYNOPSIS: one sentence that says what the cmdlet does' }
    if (Test-BlankBlock $Page.Description) { 'it needs a ## DESCRIPTION' }
    if ($Page.Examples.Count -eq 0) { 'it needs at least one example under ## EXAMPLES' }
    elseif (-not ($Page.Examples | Where-Object { -not $_.NoRun })) { "at least one example must be runnable (not marked $script:NoRunMarker)" }
    foreach ($p in $Model.Parameters.Values) {
        if ($p.Standard) { continue }
        $doc = $Page.Parameters[$p.Name]
        if (-not $doc) { "-$($p.Name) is not described (add '### -$($p.Name)' under ## PARAMETERS)" }
        elseif (Test-BlankBlock $doc.Description) { "-$($p.Name) has an empty description" }
    }
    foreach ($name in $Page.Parameters.Keys) {
        if (-not $Model.Parameters.Contains($name)) { "it describes -$name, which the cmdlet does not have" }
    }
    $documented = @($Page.Outputs | ForEach-Object { if ($_.Type -eq 'None') { 'System.Void' } else { $_.Type } })
    foreach ($type in $Model.OutputTypes) {
        if ($documented -notcontains $type) { "## OUTPUTS must describe $(if ($type -eq 'System.Void') { 'None' } else { $type }) (the cmdlet's [OutputType])" }
    }
    if ($Model.OutputTypes) {
        foreach ($type in $documented) {
            if ($Model.OutputTypes -notcontains $type) { "## OUTPUTS lists $type, which is not in the cmdlet's [OutputType]" }
        }
    }
    if (-not (Test-SyntaxSection $Page $Model)) {
        "its ## SYNTAX differs from the cmdlet's; run 'dotnet pwsh -NoProfile -File tools/New-MamlHelp.ps1 -UpdateSyntax' or write:`n" +
        ((Format-SyntaxMarkdown $Model) -join "`n")
    }
}

# ---- writing MAML -------------------------------------------------------------------------------

function Format-MarkdownTable([string[]] $Lines) {
    # Aligned columns without the pipes, which read better in a console.
    $rows = foreach ($line in $Lines) {
        if ($line -match '^\|?[\s:|-]+\|?$') { , $null; continue }
        , @($line.Trim().Trim('|').Split('|') | ForEach-Object { ConvertTo-HelpText $_.Trim() })
    }
    $widths = @{}
    foreach ($row in $rows | Where-Object { $_ }) {
        for ($i = 0; $i -lt $row.Count; $i++) { $widths[$i] = [Math]::Max([int]$widths[$i], $row[$i].Length) }
    }
    foreach ($row in $rows) {
        if ($null -eq $row) { ($widths.Keys | Sort-Object | ForEach-Object { '-' * $widths[$_] }) -join '  '; continue }
        $cells = for ($i = 0; $i -lt $row.Count; $i++) { $row[$i].PadRight($widths[$i]) }
        ($cells -join '  ').TrimEnd()
    }
}

function ConvertTo-Paragraph([object[]] $Blocks) {
    foreach ($block in $Blocks) {
        switch ($block.Kind) {
            'Code' { $block.Lines -join "`n" }
            'Table' { (Format-MarkdownTable $block.Lines) -join "`n" }
            default { ConvertTo-HelpText $block.Text }
        }
    }
}

function Write-Para([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs) {
    if (-not $Paragraphs) { $Paragraphs = @('') }
    foreach ($text in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $MamlNs, $text) }
}

function Write-Description([System.Xml.XmlWriter] $Writer, [string] $Prefix, [string] $Ns, [object[]] $Blocks) {
    $Writer.WriteStartElement($Prefix, 'description', $Ns)
    Write-Para $Writer @(ConvertTo-Paragraph $Blocks)
    $Writer.WriteEndElement()
}

function Write-Parameter([System.Xml.XmlWriter] $Writer, $Model, $Doc, [bool] $Required, [string] $Position) {
    $w = $Writer
    $w.WriteStartElement('command', 'parameter', $CommandNs)
    $w.WriteAttributeString('required', "$Required".ToLowerInvariant())
    $w.WriteAttributeString('variableLength', "$($Model.Type.IsArray)".ToLowerInvariant())
    $w.WriteAttributeString('globbing', "$($Model.Globbing)".ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', $Model.Pipeline)
    $w.WriteAttributeString('position', $Position)
    $w.WriteAttributeString('aliases', $Model.Aliases)
    $w.WriteElementString('maml', 'name', $MamlNs, $Model.Name)
    $w.WriteStartElement('maml', 'description', $MamlNs)
    if ($Doc -and -not (Test-BlankBlock $Doc.Description)) { Write-Para $w @(ConvertTo-Paragraph $Doc.Description) }
    else { Write-Para $w $StandardDescriptions[$Model.Name] }
    $w.WriteEndElement()
    if ($Model.Values) {
        $w.WriteStartElement('command', 'parameterValueGroup', $CommandNs)
        foreach ($value in $Model.Values) {
            $w.WriteStartElement('command', 'parameterValue', $CommandNs)
            $w.WriteAttributeString('required', 'false')
            $w.WriteAttributeString('command', 'variableLength', $CommandNs, 'false')
            $w.WriteString($value)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    if (-not $Model.IsSwitch) {
        $w.WriteStartElement('command', 'parameterValue', $CommandNs)
        $w.WriteAttributeString('required', 'true')
        $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString((Get-TypeName $Model.Type))
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $DevNs)
    $w.WriteElementString('maml', 'name', $MamlNs, (Get-TypeName $Model.Type -Full))
    $w.WriteElementString('maml', 'uri', $MamlNs, '')
    $w.WriteEndElement()
    $default = if ($Doc -and $Doc.DefaultValue) { $Doc.DefaultValue } elseif ($Model.IsSwitch) { 'False' } else { 'None' }
    $w.WriteElementString('dev', 'defaultValue', $DevNs, $default)
    $w.WriteEndElement()
}

function Write-TypeList([System.Xml.XmlWriter] $Writer, [string] $List, [string] $Item, [object[]] $Types) {
    $Writer.WriteStartElement('command', $List, $CommandNs)
    foreach ($type in $Types) {
        $Writer.WriteStartElement('command', $Item, $CommandNs)
        $Writer.WriteStartElement('dev', 'type', $DevNs)
        $Writer.WriteElementString('maml', 'name', $MamlNs, $type.Type)
        $Writer.WriteEndElement()
        Write-Description $Writer 'maml' $MamlNs $type.Description
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-Command([System.Xml.XmlWriter] $Writer, $Page, $Model) {
    $w = $Writer
    $w.WriteStartElement('command', 'command', $CommandNs)
    $w.WriteStartElement('command', 'details', $CommandNs)
    $w.WriteElementString('command', 'name', $CommandNs, $Model.Name)
    $w.WriteElementString('command', 'verb', $CommandNs, $Model.Verb)
    $w.WriteElementString('command', 'noun', $CommandNs, $Model.Noun)
    $w.WriteStartElement('maml', 'description', $MamlNs)
    Write-Para $w $Page.Synopsis
    $w.WriteEndElement()
    $w.WriteEndElement()
    Write-Description $w 'maml' $MamlNs $Page.Description

    $w.WriteStartElement('command', 'syntax', $CommandNs)
    foreach ($set in $Model.Sets) {
        $w.WriteStartElement('command', 'syntaxItem', $CommandNs)
        $w.WriteElementString('maml', 'name', $MamlNs, $Model.Name)
        foreach ($p in $set.Parameters) {
            $position = if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }
            Write-Parameter $w $Model.Parameters[$p.Name] $Page.Parameters[$p.Name] $p.IsMandatory $position
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $CommandNs)
    foreach ($p in ($Model.Parameters.Values | Sort-Object Name)) {
        Write-Parameter $w $p $Page.Parameters[$p.Name] $p.Required $p.Position
    }
    $w.WriteEndElement()

    Write-TypeList $w 'inputTypes' 'inputType' $Page.Inputs
    Write-TypeList $w 'returnValues' 'returnValue' $Page.Outputs
    $w.WriteStartElement('maml', 'alertSet', $MamlNs)
    $w.WriteStartElement('maml', 'alert', $MamlNs)
    Write-Para $w @(ConvertTo-Paragraph $Page.Notes)
    $w.WriteEndElement()
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $CommandNs)
    foreach ($example in $Page.Examples) {
        $w.WriteStartElement('command', 'example', $CommandNs)
        $w.WriteElementString('maml', 'title', $MamlNs, "--------- Example $($example.Number): $($example.Title) ---------")
        $w.WriteElementString('dev', 'code', $DevNs, $example.Code)
        $w.WriteStartElement('dev', 'remarks', $DevNs)
        Write-Para $w (@(ConvertTo-Paragraph $example.Remarks) + @(''))   # the empty one separates examples on screen
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $CommandNs)
    foreach ($link in $Page.Links) {
        $w.WriteStartElement('maml', 'navigationLink', $MamlNs)
        $w.WriteElementString('maml', 'linkText', $MamlNs, $link.Text)
        $w.WriteElementString('maml', 'uri', $MamlNs, $(if ($link.Uri -match '^https?://') { $link.Uri } else { '' }))
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}

function Write-Maml([string] $Path, [object[]] $Commands) {
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
    $writer = [System.Xml.XmlWriter]::Create($Path, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        $writer.WriteAttributeString('xmlns', 'maml', $null, $MamlNs)
        $writer.WriteAttributeString('xmlns', 'command', $null, $CommandNs)
        $writer.WriteAttributeString('xmlns', 'dev', $null, $DevNs)
        foreach ($c in $Commands) { Write-Command $writer $c.Page $c.Model }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally { $writer.Dispose() }
}

# ---- writing about topics -----------------------------------------------------------------------

function Format-Wrapped([string] $Text, [int] $Indent, [int] $Hanging = $Indent, [int] $Width = 80) {
    $line = ' ' * $Indent
    $fresh = $true
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if (-not $fresh -and $line.Length + 1 + $word.Length -gt $Width) {
            $line
            $line = (' ' * $Hanging) + $word
        }
        else { $line += $(if ($fresh) { $word } else { " $word" }) }
        $fresh = $false
    }
    $line
}

function ConvertTo-AboutText($About) {
    $out = [Collections.Generic.List[string]]::new()
    $out.AddRange([string[]]@('TOPIC', "    $($About.Name)", ''))
    foreach ($section in $About.Sections) {
        $out.Add($section.Heading)
        foreach ($block in $section.Blocks) {
            switch ($block.Kind) {
                'Paragraph' { $out.AddRange([string[]]@(Format-Wrapped (ConvertTo-HelpText $block.Text) 4)) }
                'ListItem' {
                    $text = ConvertTo-HelpText $block.Text
                    $bullet = ($text -split '\s', 2)[0]
                    $out.AddRange([string[]]@(Format-Wrapped $text 4 (5 + $bullet.Length)))
                }
                'Code' { $out.AddRange([string[]]@($block.Lines | ForEach-Object { if ($_) { "        $_" } else { '' } })) }
                'Table' { $out.AddRange([string[]]@(Format-MarkdownTable $block.Lines | ForEach-Object { "    $_" })) }
                'Heading' { $out.Add("  $($block.Text)") }
            }
            $out.Add('')
        }
        if ($section.Blocks.Count -eq 0) { $out.Add('') }
    }
    ($out -join [Environment]::NewLine).TrimEnd() + [Environment]::NewLine
}

# ---- main ---------------------------------------------------------------------------------------

$Source = (Resolve-Path $Source).Path
$module = Import-Module $ModulePath -Force -PassThru
$problems = [Collections.Generic.List[string]]::new()
$commands = [Collections.Generic.List[object]]::new()
$pages = @{}
foreach ($file in Get-ChildItem $Source -Filter '*.md' | Where-Object { $_.Name -ne 'README.md' -and $_.Name -notlike 'about_*' }) {
    $pages[$file.BaseName] = $file.FullName
}

foreach ($command in ($module.ExportedCmdlets.Values | Sort-Object Name)) {
    $model = Get-CmdletModel $command
    $path = $pages[$command.Name]
    $pages.Remove($command.Name)
    if (-not $path) {
        $problems.Add("$($command.Name) is exported by $(Split-Path $ModulePath -Leaf) but has no help page; write docs/en-US/$($command.Name).md (format: docs/en-US/README.md).")
        continue
    }
    $page = Read-HelpPage $path
    if ($UpdateSyntax -and -not (Test-SyntaxSection $page $model)) {
        Update-SyntaxSection $path (Format-SyntaxMarkdown $model)
        Write-Host "Updated the SYNTAX of $(Split-Path $path -Leaf)"
        $page = Read-HelpPage $path
    }
    foreach ($problem in (Get-PageProblem $page $model)) { $problems.Add("$(Split-Path $path -Leaf): $problem") }
    $commands.Add([pscustomobject]@{ Page = $page; Model = $model })
}
foreach ($stale in $pages.Keys) {
    $problems.Add("$stale.md describes $stale, which $(Split-Path $ModulePath -Leaf) does not export; remove the page or export the cmdlet.")
}

$abouts = @(Get-ChildItem $Source -Filter 'about_*.md' | ForEach-Object { Read-AboutPage $_.FullName })
if (-not ($abouts | Where-Object Name -EQ "about_$($module.Name)")) {
    $problems.Add("The module needs an about topic: docs/en-US/about_$($module.Name).md.")
}
foreach ($about in $abouts) {
    foreach ($problem in $about.Problems) { $problems.Add("$(Split-Path $about.Path -Leaf): $problem") }
}

if ($problems.Count -gt 0) {
    # Plain lines on stderr: an exception's error view would wrap and colour the list.
    [Console]::Error.WriteLine("The help cannot be built: $($problems.Count) problem(s) in $($Source):")
    foreach ($problem in $problems) { [Console]::Error.WriteLine("  - $problem") }
    exit 1
}

New-Item -ItemType Directory -Force $Destination | Out-Null
Get-ChildItem $Destination -File | Where-Object { $_.Name -like '*-Help.xml' -or $_.Name -like 'about_*.help.txt' } | Remove-Item
foreach ($group in ($commands | Group-Object { $_.Model.HelpFile })) {
    Write-Maml (Join-Path $Destination $group.Name) $group.Group
}
foreach ($about in $abouts) {
    [IO.File]::WriteAllText((Join-Path $Destination "$($about.Name).help.txt"), (ConvertTo-AboutText $about))
}
Write-Host ("Help: {0} cmdlets in {1}, {2} about topic(s), {3} examples." -f $commands.Count,
    (($commands | ForEach-Object { $_.Model.HelpFile } | Select-Object -Unique) -join ', '), $abouts.Count,
    ($commands | ForEach-Object { $_.Page.Examples.Count } | Measure-Object -Sum).Sum)
