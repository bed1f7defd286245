@URS-LIMS-010
Feature: Sample registration
  Background:
    Given the LIMS is reachable

  @URS-LIMS-011
  Scenario: Register a sample
    When I register sample "S-001"
    Then the sample "S-001" is listed

  @URS-LIMS-012
  Scenario: Reject a duplicate sample
    When I register sample "S-002"
    And I register sample "S-002"
    Then the second registration is refused

  @URS-LIMS-013
  Scenario: Print a label
    When I print the label for "S-001"

  @URS-LIMS-014
  Scenario Outline: Sample types
    When I register a <type> sample
    Then it is stored

    Examples:
      | type   |
      | blood  |
      | saliva |
